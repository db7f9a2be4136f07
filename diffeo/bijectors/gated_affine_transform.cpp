#include "diffeo/bijectors/gated_affine_transform.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

GatedAffineTransform::GatedAffineTransform(double gate_bias) : gate_bias_(gate_bias) {
  if (!std::isfinite(gate_bias))
    throw Error("GatedAffineTransform: argument 'gate_bias' must be finite, got " +
                number_string(gate_bias));
}

Result GatedAffineTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                                   bool inverse) const {
  auto target = params.select(-1, 0);
  auto logit = params.select(-1, 1) + gate_bias_;
  // log g and log(1 - g) in their stable forms; (1 - g) = sigmoid(-logit).
  auto log_gate = torch::log_sigmoid(logit);
  auto shift = torch::sigmoid(-logit) * target;
  if (inverse) return {(x - shift) * torch::exp(-log_gate), -log_gate};
  return {x * torch::exp(log_gate) + shift, log_gate};
}

Transform gated_affine_transform(double gate_bias) {
  return std::make_shared<GatedAffineTransform>(gate_bias);
}

}  // namespace diffeo
