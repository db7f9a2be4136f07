#pragma once

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Counter-clockwise rotation of 2-D vectors by the angle theta (radians):
/// y = R(theta) x with R = [[cos, -sin], [sin, cos]].  The reference project's
/// custom-bijector example and the walkthrough in docs/concepts.md.  Rotations
/// preserve volume, so the log-det is exactly 0.
class Rotation2DImpl : public BijectorImpl {
 public:
  explicit Rotation2DImpl(double theta, bool learnable = true);

  /// The angle, a 0-dim tensor.
  torch::Tensor theta() const { return theta_; }
  /// The 2 x 2 rotation matrix R(theta).
  torch::Tensor matrix() const;

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  torch::Tensor theta_;
};
TORCH_MODULE(Rotation2D);

}  // namespace diffeo
