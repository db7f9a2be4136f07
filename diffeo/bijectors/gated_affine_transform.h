#pragma once

#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// The gated update of Multiplicative Normalizing Flows (Louizos & Welling
/// 2017): y = g * x + (1 - g) * m with a gate g = sigmoid(r + gate_bias) in
/// (0, 1) and theta = (m, r), so y moves x part of the way towards m.  The
/// log-det is log g <= 0; the inverse is x = (y - (1 - g) m) / g.  Unlike the
/// other transforms it is not the identity at theta = 0 (no gate value is):
/// `gate_bias` sets the starting gate, sigmoid(2) = 0.88 by default, the
/// starting point of the authors' code.  P = 2.
class GatedAffineTransform : public ElementwiseTransform {
 public:
  explicit GatedAffineTransform(double gate_bias = 2.0);

  int64_t parameters_per_feature() const override { return 2; }
  Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const override;
  std::string name() const override { return "gated_affine"; }

 private:
  double gate_bias_;
};

/// A shared GatedAffineTransform.
Transform gated_affine_transform(double gate_bias = 2.0);

}  // namespace diffeo
