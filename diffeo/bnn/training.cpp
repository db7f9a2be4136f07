#include "diffeo/bnn/training.h"

#include <chrono>
#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/batch_loader.h"

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

  data::BatchLoader loader({x, y}, options.batch_size(), options.seed());
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(options.learning_rate()));
  net->train();
  TrainReport report;
  report.stop_reason = "steps";
  using clock = std::chrono::steady_clock;
  double callback_seconds = 0;
  const auto start = clock::now();
  int64_t bad_in_a_row = 0;
  for (int64_t step = 1; step <= options.steps(); ++step) {
    const double elapsed =
        std::chrono::duration<double>(clock::now() - start).count() - callback_seconds;
    if (options.time_limit() > 0 && elapsed >= options.time_limit()) {
      report.stop_reason = "time limit";
      break;
    }
    const double kl_weight =
        options.kl_warmup_steps() > 0
            ? std::min(1.0, static_cast<double>(step) / options.kl_warmup_steps())
            : 1.0;
    auto batch = loader.next();
    adam.zero_grad();
    auto terms = elbo(net, batch[0], batch[1], likelihood, x.size(0), kl_weight);
    terms.loss.backward();
    bool finite = std::isfinite(terms.loss.item<double>());
    if (finite && options.clip_grad_norm() > 0)
      finite = std::isfinite(
          torch::nn::utils::clip_grad_norm_(net->parameters(), options.clip_grad_norm()));
    if (!finite) {
      ++report.skipped_steps;
      if (++bad_in_a_row >= options.max_bad_steps())
        throw Error(where + ": " + std::to_string(bad_in_a_row) +
                    " steps in a row gave a non-finite loss or gradient (at step " +
                    std::to_string(step) + "); lower the learning rate");
      continue;
    }
    bad_in_a_row = 0;
    adam.step();
    ++report.steps;
    report.loss.push_back(terms.loss.item<double>());
    report.nll.push_back(terms.nll.item<double>());
    report.kl_per_point.push_back(terms.kl.item<double>() / x.size(0));
    if (options.on_step()) {
      const auto before = clock::now();
      options.on_step()(step, terms);
      callback_seconds += std::chrono::duration<double>(clock::now() - before).count();
    }
  }
  report.seconds = std::chrono::duration<double>(clock::now() - start).count() - callback_seconds;
  return report;
}

}  // namespace diffeo::bnn
