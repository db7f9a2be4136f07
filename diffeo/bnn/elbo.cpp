#include "diffeo/bnn/elbo.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bnn {

LogLikelihood categorical_likelihood() {
  return [](const torch::Tensor& logits, const torch::Tensor& labels) {
    const std::string where = "bnn::categorical_likelihood";
    if (logits.dim() != 2) throw Error(where + ": the network's outputs must be logits [batch, classes], got " + shape_string(logits.sizes()));
    if (labels.dim() != 1 || labels.size(0) != logits.size(0) || labels.scalar_type() != torch::kLong)
      throw Error(where + ": targets must be int64 class indices [" + std::to_string(logits.size(0)) + "], got " +
                  shape_string(labels.sizes()) + " of dtype " + std::string(c10::toString(labels.scalar_type())));
    if (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= logits.size(1)))
      throw Error(where + ": targets must lie in [0, " + std::to_string(logits.size(1)) + ")");
    return torch::log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).squeeze(1);
  };
}

LogLikelihood gaussian_likelihood(double noise_std) {
  if (!(noise_std > 0) || !std::isfinite(noise_std))
    throw Error("bnn::gaussian_likelihood: argument 'noise_std' must be positive and finite, got " +
                number_string(noise_std));
  return [noise_std](const torch::Tensor& outputs, const torch::Tensor& targets) {
    const std::string where = "bnn::gaussian_likelihood";
    if (outputs.dim() != 2 || outputs.size(1) != 1)
      throw Error(where + ": the network's outputs must be [batch, 1], got " + shape_string(outputs.sizes()));
    auto y = targets.reshape({-1});
    if (y.size(0) != outputs.size(0))
      throw Error(where + ": targets must hold one value per row (" + std::to_string(outputs.size(0)) +
                  "), got shape " + shape_string(targets.sizes()));
    auto z = (y - outputs.squeeze(1)) / noise_std;
    return -0.5 * z.square() - std::log(noise_std) - 0.5 * std::log(2 * M_PI);
  };
}

ElboTerms elbo(BayesianNet& net, const torch::Tensor& x, const torch::Tensor& y,
               const LogLikelihood& likelihood, int64_t data_size, double kl_weight) {
  const std::string where = "bnn::elbo";
  check_positive(data_size, "data_size", where);
  if (!(kl_weight >= 0 && kl_weight <= 1))
    throw Error(where + ": argument 'kl_weight' must lie in [0, 1], got " + number_string(kl_weight));
  if (!x.defined() || !y.defined() || x.size(0) != y.size(0) || x.size(0) == 0)
    throw Error(where + ": arguments 'x' and 'y' must be defined with the same number (>= 1) of rows");
  auto nll = -likelihood(net->forward(x), y).mean();
  auto kl = net->kl();
  return {nll + kl_weight * kl / static_cast<double>(data_size), nll, kl};
}

}  // namespace diffeo::bnn
