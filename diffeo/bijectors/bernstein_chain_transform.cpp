#include "diffeo/bijectors/bernstein_chain_transform.h"

#include <cmath>

#include "diffeo/core/error.h"

namespace diffeo {

BernsteinChainTransform::BernsteinChainTransform(int64_t order) : order_(order) {
  bernstein::BernsteinOptions().validate(order, "BernsteinChainTransform");
}

Result BernsteinChainTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                                      bool inverse) const {
  if (params.dim() < 1 || params.size(-1) != parameters_per_feature())
    throw Error("BernsteinChainTransform: argument 'params' has " +
                std::to_string(params.dim() ? params.size(-1) : 0) +
                " values per coordinate but order " + std::to_string(order_) + " needs " +
                std::to_string(parameters_per_feature()));
  const auto M1 = order_ + 1;
  auto b1 = 0.5 + params.select(-1, 0), log_a1 = params.select(-1, 1) - std::log(5.0);
  auto polynomial = params.narrow(-1, 2, M1);
  auto b2 = -2.5 + params.select(-1, M1 + 2), log_a2 = params.select(-1, M1 + 3) + std::log(5.0);
  if (inverse) {  // data -> latent
    auto g = bernstein::apply(x * torch::exp(log_a1) + b1, polynomial, /*inverse=*/false);
    return {g.output * torch::exp(log_a2) + b2, log_a1 + g.log_det + log_a2};
  }
  auto g = bernstein::apply((x - b2) * torch::exp(-log_a2), polynomial, /*inverse=*/true);
  return {(g.output - b1) * torch::exp(-log_a1), -log_a2 + g.log_det - log_a1};
}

}  // namespace diffeo
