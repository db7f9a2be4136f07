#pragma once

#include <cstdint>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Lifts a vector bijector (event rank 1) on the C channels of an image to CHW
/// images (event rank 3): the channel vector of every pixel goes through the
/// same inner bijector.  Channels are moved last ([batch..., H, W, C]), so the
/// inner bijector sees H and W as batch dimensions, its log-det is summed over
/// them, and its own checks report shapes in that channels-last layout; a
/// context [batch..., K] is handed on as [batch..., 1, 1, K].
/// Pixelwise(ActNorm(C)) is Glow's ActNorm, whose data-dependent
/// initialisation then uses statistics over batch and pixels;
/// Pixelwise(LULinear(C)) is Glow's invertible 1x1 convolution.
class PixelwiseImpl : public BijectorImpl {
 public:
  explicit PixelwiseImpl(Bijector bijector);

  const Bijector& bijector() const { return bijector_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result run(const torch::Tensor& input, const torch::Tensor& context, bool forward);

  Bijector bijector_;
};
TORCH_MODULE(Pixelwise);

/// Glow's activation normalisation of images: Pixelwise(ActNorm(channels)).
Bijector act_norm_2d(int64_t channels);

/// Glow's invertible 1x1 convolution in LU form:
/// Pixelwise(LULinear(LULinearOptions(channels).seed(seed))).
Bijector invertible_conv_1x1(int64_t channels, uint64_t seed);

}  // namespace diffeo
