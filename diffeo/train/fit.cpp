// train::fit for flows and other distributions: objectives and sources over the engine.
#include "diffeo/train/fit.h"

#include <cmath>
#include <iomanip>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/train/flow_objectives.h"

namespace diffeo::train {

FitReport fit(Distribution model, const BatchSampler& sampler, const FitOptions& options) {
  if (model.is_empty()) throw Error("fit: argument 'model' is empty");
  auto validation_generator = at::make_generator<at::CPUGeneratorImpl>(options.seed() + 1);
  const auto validation = sampler(8192, validation_generator);
  return fit(model, sampler, options, validation.first, validation.second);
}

FitReport fit(Distribution model, DataSource& source, const FitOptions& options,
              const torch::Tensor& validation, const torch::Tensor& validation_context) {
  MaximumLikelihood objective(model);
  objective.validate_on(validation, validation_context);
  return fit(objective, source, options);
}

FitReport fit(Distribution model, const BatchSampler& sampler, const FitOptions& options,
              const torch::Tensor& validation, const torch::Tensor& validation_context) {
  SampledBatches source(sampler);
  return fit(model, source, options, validation, validation_context);
}

FitReport fit(Distribution model, const torch::Tensor& data, const FitOptions& options,
              const torch::Tensor& context, const torch::Tensor& validation,
              const torch::Tensor& validation_context) {
  check_floating(data, "data", "fit");
  TensorDataSet source({{"data", data}, {"context", context}});
  return fit(model, source, options, validation, validation_context);
}

FitReport fit_reverse_kl(Distribution model,
                         const std::function<torch::Tensor(const torch::Tensor&)>& target_log_prob,
                         const FitOptions& options) {
  ReverseKL objective(model, target_log_prob, options.seed() + 1);
  NoData source;
  return fit(objective, source, options);
}

json FitReport::to_json() const {
  json validation = json::array();
  for (const auto& [step, loss] : validation_loss) validation.push_back({step, loss});
  json train = json::array();
  for (double v : train_loss) train.push_back(std::isfinite(v) ? json(v) : json());
  return {{"steps", steps},
          {"skipped_steps", skipped_steps},
          {"stop_reason", stop_reason},
          {"seconds", seconds},
          {"best_validation", std::isfinite(best_validation) ? json(best_validation) : json()},
          {"train_loss", train},
          {"validation_loss", validation}};
}

void FitReport::write(const std::string& path) const {
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  write_atomically(path, "FitReport::write", [&](std::ostream& out) {
    if (!csv) {
      out << to_json().dump(1) << '\n';
      return;
    }
    out << std::setprecision(17) << "step,train_loss,validation_loss\n";
    size_t v = 0;
    for (size_t i = 0; i < train_loss.size(); ++i) {
      const auto step = static_cast<int64_t>(i + 1);
      out << step << ',' << train_loss[i] << ',';
      if (v < validation_loss.size() && validation_loss[v].first == step)
        out << validation_loss[v++].second;
      out << '\n';
    }
  });
}

}  // namespace diffeo::train
