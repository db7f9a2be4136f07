#include "diffeo/train/evaluate.h"

#include <cmath>
#include <string>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::train {

namespace {

void check_rows(const torch::Tensor& x, const std::string& where) {
  check_defined(x, "x", where);
  if (x.dim() < 1 || x.size(0) < 1)
    throw Error(where + ": argument 'x' must have at least one row, got shape " +
                shape_string(x.sizes()));
}

}  // namespace

Estimate mean_estimate(const torch::Tensor& values) {
  check_defined(values, "values", "mean_estimate");
  if (values.numel() == 0) throw Error("mean_estimate: argument 'values' is empty");
  const auto v = values.to(torch::kFloat64);
  const auto n = v.numel();
  return {v.mean().item<double>(),
          n > 1 ? v.std().item<double>() / std::sqrt(static_cast<double>(n)) : NAN};
}

torch::Tensor log_prob_in_chunks(Distribution model, const torch::Tensor& x, int64_t chunk,
                                 const torch::Tensor& context) {
  check_defined(x, "x", "log_prob_in_chunks");
  if (x.dim() < 1)
    throw Error("log_prob_in_chunks: argument 'x' needs a batch dimension, got shape " +
                shape_string(x.sizes()));
  if (context.defined() && (context.dim() < 1 || context.size(0) != x.size(0)))
    throw Error("log_prob_in_chunks: argument 'context' must have one row per row of 'x' (" +
                std::to_string(x.size(0)) + "), got shape " + shape_string(context.sizes()));
  c10::InferenceMode inference;
  const auto options = model->options();
  return in_chunks(x.size(0), chunk, [&](int64_t start, int64_t rows) {
    auto rows_context =
        context.defined() ? context.narrow(0, start, rows).to(options) : torch::Tensor();
    return model->log_prob(x.narrow(0, start, rows).to(options), rows_context)
        .to(x.device(), torch::kFloat64);
  });
}

TruthComparison compare_with_truth(
    Distribution model, const torch::Tensor& x,
    const std::function<torch::Tensor(const torch::Tensor&)>& true_log_prob, int64_t chunk,
    const torch::Tensor& context) {
  check_rows(x, "compare_with_truth");
  TruthComparison result;
  const auto model_log_prob = log_prob_in_chunks(model, x, chunk, context);
  result.non_finite = torch::isfinite(model_log_prob).logical_not().sum().item<int64_t>();
  result.nll = mean_estimate(-model_log_prob);
  if (!true_log_prob) return result;
  c10::InferenceMode inference;
  const auto truth = in_chunks(x.size(0), chunk, [&](int64_t start, int64_t rows) {
    return true_log_prob(x.narrow(0, start, rows).to(torch::kFloat64)).to(torch::kFloat64);
  });
  result.entropy = mean_estimate(-truth);
  result.kl = mean_estimate(truth - model_log_prob);
  result.has_truth = true;
  return result;
}

}  // namespace diffeo::train
