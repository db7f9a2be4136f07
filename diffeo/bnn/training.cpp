#include "diffeo/bnn/training.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/bnn/elbo_objective.h"
#include "diffeo/train/fit.h"

namespace diffeo::bnn {

static void check_options(const TrainOptions& o, int64_t rows, const std::string& where) {
  check_positive(o.steps(), "steps", where);
  check_positive(o.batch_size(), "batch_size", where);
  if (o.batch_size() > rows)
    throw Error(where + ": option 'batch_size' (" + std::to_string(o.batch_size()) +
                ") exceeds the number of training rows (" + std::to_string(rows) + ")");
  if (!(o.learning_rate() > 0) || !std::isfinite(o.learning_rate()))
    throw Error(where + ": option 'learning_rate' must be positive and finite, got " +
                number_string(o.learning_rate()));
  if (!(o.time_limit() >= 0) || !(o.clip_grad_norm() >= 0) || o.kl_warmup_steps() < 0)
    throw Error(where + ": options 'time_limit', 'clip_grad_norm' and 'kl_warmup_steps' must be >= 0");
  check_positive(o.max_bad_steps(), "max_bad_steps", where);
}

TrainReport train(BayesianNet net, const torch::Tensor& x, const torch::Tensor& y,
                  const LogLikelihood& likelihood, const TrainOptions& options) {
  const std::string where = "bnn::train";
  check_floating(x, "x", where);
  check_defined(y, "y", where);
  if (x.dim() < 1 || y.dim() < 1 || x.size(0) != y.size(0))
    throw Error(where + ": arguments 'x' " + shape_string(x.sizes()) + " and 'y' " +
                shape_string(y.sizes()) + " must have the same number of rows");
  check_finite(x, "x", where);
  if (y.is_floating_point()) check_finite(y, "y", where);
  check_options(options, x.size(0), where);

  ElboObjective objective(net, likelihood, x.size(0), options.kl_warmup_steps());
  train::TensorDataSet source({{"x", x}, {"y", y}});
  TrainReport report;
  // The engine with bnn::train's settings: constant rate, no validation.
  auto fit_options = train::FitOptions()
                         .steps(options.steps())
                         .time_limit(options.time_limit())
                         .batch_size(options.batch_size())
                         .learning_rate(options.learning_rate())
                         .schedule("constant")
                         .clip_grad_norm(options.clip_grad_norm())
                         .validate_every(0)
                         .seed(options.seed())
                         .max_bad_steps(options.max_bad_steps())
                         .process_group(options.process_group())
                         .on_step([&](int64_t step, double) {
                           const auto& terms = objective.last_terms();
                           report.loss.push_back(terms.loss.item<double>());
                           report.nll.push_back(terms.nll.item<double>());
                           report.kl_per_point.push_back(terms.kl.item<double>() / x.size(0));
                           if (options.on_step()) options.on_step()(step, terms);
                         });
  const auto fitted = train::fit(objective, source, fit_options);
  report.steps = fitted.steps - fitted.skipped_steps;
  report.skipped_steps = fitted.skipped_steps;
  report.seconds = fitted.seconds;
  report.stop_reason = fitted.stop_reason;
  return report;
}

}  // namespace diffeo::bnn
