#pragma once

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Space-to-depth for CHW images (Dinh et al. 2017, Glow): forward maps
/// [batch..., C, H, W] to [batch..., 4C, H/2, W/2], moving each 2x2 patch into
/// channels: output channel 4c + 2i + j at (h, w) is input channel c at
/// (2h + i, 2w + j), i, j in {0, 1}.  Inverse (depth-to-space) is the reverse.
/// A permutation, so the log-det is 0.  Event rank 3; the forward needs even H
/// and W, the inverse a channel count divisible by 4.  In a chain acting on
/// data, Inverse(Squeeze()) squeezes in the density direction.
class SqueezeImpl : public BijectorImpl {
 public:
  SqueezeImpl();

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;
};
TORCH_MODULE(Squeeze);

}  // namespace diffeo
