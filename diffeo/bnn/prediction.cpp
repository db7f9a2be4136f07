#include "diffeo/bnn/prediction.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bnn {

torch::Tensor sample_outputs(BayesianNet& net, const torch::Tensor& x, int64_t samples,
                             int64_t chunk) {
  const std::string where = "bnn::sample_outputs";
  check_floating(x, "x", where);
  check_positive(samples, "samples", where);
  check_positive(chunk, "chunk", where);
  if (x.dim() < 1 || x.size(0) == 0)
    throw Error(where + ": argument 'x' needs at least one row, got shape " + shape_string(x.sizes()));
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> draws;
  for (int64_t s = 0; s < samples; ++s) {
    std::vector<torch::Tensor> parts;
    for (int64_t begin = 0; begin < x.size(0); begin += chunk)
      parts.push_back(net->forward(x.slice(0, begin, std::min(begin + chunk, x.size(0)))));
    draws.push_back(torch::cat(parts));
  }
  return torch::stack(draws);
}

torch::Tensor predictive_probabilities(BayesianNet& net, const torch::Tensor& x, int64_t samples,
                                       int64_t chunk) {
  auto logits = sample_outputs(net, x, samples, chunk);
  if (logits.dim() != 3)
    throw Error("bnn::predictive_probabilities: the network must output logits [N, K], got [N, ...] = " +
                shape_string(logits.sizes().slice(1)));
  return torch::softmax(logits, -1).mean(0);
}

static void check_probabilities(const torch::Tensor& p, const std::string& where) {
  check_floating(p, "probabilities", where);
  if (p.dim() != 2 || p.size(0) == 0 || p.size(1) < 2)
    throw Error(where + ": argument 'probabilities' must be [N >= 1, K >= 2], got " +
                shape_string(p.sizes()));
  check_finite(p, "probabilities", where);
  if ((p < 0).any().item<bool>() || ((p.sum(1) - 1).abs() > 1e-3).any().item<bool>())
    throw Error(where + ": argument 'probabilities' must hold non-negative rows that sum to 1");
}

ClassificationScores classification_scores(const torch::Tensor& probabilities,
                                           const torch::Tensor& labels, int64_t bins) {
  const std::string where = "bnn::classification_scores";
  check_probabilities(probabilities, where);
  check_positive(bins, "bins", where);
  const auto n = probabilities.size(0);
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n ||
      labels.scalar_type() != torch::kLong)
    throw Error(where + ": argument 'labels' must be int64 [" + std::to_string(n) + "]");
  if (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= probabilities.size(1))
    throw Error(where + ": argument 'labels' must lie in [0, " +
                std::to_string(probabilities.size(1)) + ")");
  auto p = probabilities.to(torch::kFloat64);
  auto [confidence, predicted] = p.max(1);
  auto correct = (predicted == labels).to(torch::kFloat64);
  ClassificationScores scores;
  scores.error = 1.0 - correct.mean().item<double>();
  // Clamp so that a confidently wrong prediction costs a finite ~69 nats, not inf.
  scores.nll = -p.gather(1, labels.unsqueeze(1)).clamp_min(1e-30).log().mean().item<double>();
  auto bin = (confidence * bins).floor().clamp_max(bins - 1).to(torch::kLong);
  auto count = torch::zeros({bins}, p.options()).index_add_(0, bin, torch::ones_like(confidence));
  auto hits = torch::zeros({bins}, p.options()).index_add_(0, bin, correct);
  auto confident = torch::zeros({bins}, p.options()).index_add_(0, bin, confidence);
  scores.ece = ((hits - confident).abs().sum() / n).item<double>();
  return scores;
}

torch::Tensor predictive_entropy(const torch::Tensor& probabilities) {
  check_probabilities(probabilities, "bnn::predictive_entropy");
  return -torch::xlogy(probabilities, probabilities).sum(1);
}

}  // namespace diffeo::bnn
