#pragma once

#include "diffeo/bijectors/bernstein.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// The Bernstein flow's chain as one elementwise transform, for transformation
/// models whose parameters come from a network (ConditionalElementwise).  Data
/// -> latent (the inverse direction): z = a2 g(a1 y + b1) + b2 with g the plain
/// Bernstein polynomial of `order` (bernstein::apply, continued linearly
/// outside [0, 1]).  theta = (r_b1, r_a1, polynomial params [M + 1], r_b2,
/// r_a2), P = M + 5, with b1 = 1/2 + r_b1, a1 = exp(r_a1) / 5, b2 = -5/2 +
/// r_b2, a2 = 5 exp(r_a2): theta = 0 is the identity, which suits
/// standardised data.  The forward (sampling) direction inverts the
/// polynomial by root finding.
class BernsteinChainTransform : public ElementwiseTransform {
 public:
  explicit BernsteinChainTransform(int64_t order);

  int64_t parameters_per_feature() const override { return order_ + 5; }
  Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const override;
  std::string name() const override { return "bernstein_chain"; }

 private:
  int64_t order_;
};

}  // namespace diffeo
