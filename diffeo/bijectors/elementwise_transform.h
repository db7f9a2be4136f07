#pragma once
// The scalar maps that coupling and autoregressive layers apply per coordinate.

#include <torch/torch.h>

#include <memory>
#include <string>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// A family of increasing scalar maps y = t(x; theta) with P parameters per
/// coordinate: what a coupling or autoregressive layer applies to the
/// coordinates it transforms, with theta computed by its conditioner.  A
/// conditioner whose last layer is zero gives theta = 0, and every transform
/// here is the identity at theta = 0, so a new flow starts at the identity.
class ElementwiseTransform {
 public:
  virtual ~ElementwiseTransform() = default;

  /// P, the number of parameters per coordinate.
  virtual int64_t parameters_per_feature() const = 0;
  /// x [batch..., D] and params [batch..., D, P] -> Result{y [batch..., D],
  /// log|dy/dx| [batch..., D]} (elementwise, not summed), or the inverse map
  /// and its log-det when `inverse`.
  virtual Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const = 0;
  /// A short name for messages and specs ("affine", "spline").
  virtual std::string name() const = 0;
};

using Transform = std::shared_ptr<const ElementwiseTransform>;

}  // namespace diffeo
