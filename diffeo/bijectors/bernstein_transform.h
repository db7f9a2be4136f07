#pragma once

#include "diffeo/bijectors/bernstein.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// The Bernstein polynomial of order M (bernstein::apply) as the inner
/// transform of coupling and autoregressive layers: P = M + 1 conditioner
/// outputs per coordinate (M - 2 with options.bound > 0, the bounded polynomial
/// that is the identity outside [-bound, bound], the usual choice in a flow),
/// the identity when they are all 0.  Forward is the polynomial, inverse is
/// found by safeguarded Newton iteration.
class BernsteinTransform : public ElementwiseTransform {
 public:
  explicit BernsteinTransform(int64_t order, bernstein::BernsteinOptions options = {});

  int64_t parameters_per_feature() const override;
  /// As bernstein::apply; throws diffeo::Error unless params.size(-1) == P.
  Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const override;
  std::string name() const override { return "bernstein"; }

 private:
  int64_t order_;
  bernstein::BernsteinOptions options_;
};

/// A shared BernsteinTransform.
Transform bernstein_transform(int64_t order, bernstein::BernsteinOptions options = {});

}  // namespace diffeo
