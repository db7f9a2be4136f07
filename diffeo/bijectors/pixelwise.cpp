#include "diffeo/bijectors/pixelwise.h"

#include "diffeo/bijectors/act_norm.h"
#include "diffeo/bijectors/lu_linear.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

static int64_t image_rank(const Bijector& bijector) {
  if (bijector.is_empty()) throw Error("Pixelwise: bijector is empty (nullptr)");
  if (bijector->event_rank() != 1)
    throw Error("Pixelwise: the bijector must act on vectors (event rank 1), got event rank " +
                std::to_string(bijector->event_rank()));
  return 3;
}

PixelwiseImpl::PixelwiseImpl(Bijector bijector)
    : BijectorImpl(image_rank(bijector)), bijector_(register_module("bijector", bijector)) {}

Result PixelwiseImpl::run(const torch::Tensor& input, const torch::Tensor& context, bool forward) {
  auto channels_last = input.movedim(-3, -1);
  // H and W are batch dimensions for the inner bijector: a context row
  // [batch..., K] becomes [batch..., 1, 1, K] so that it broadcasts over them.
  auto pixel_context =
      context.defined() && context.dim() >= 1 ? context.unsqueeze(-2).unsqueeze(-2) : context;
  Result r;
  try {
    r = forward ? bijector_->forward_and_log_det(channels_last, pixel_context)
                : bijector_->inverse_and_log_det(channels_last, pixel_context);
  } catch (const Error& e) {
    // The inner bijector saw channels-last pixels: say how the image was read.
    throw Error(std::string("Pixelwise: argument '") + (forward ? "x" : "y") + "' of shape " +
                shape_string(input.sizes()) + " is read as [batch..., C, H, W] with C = " +
                std::to_string(input.size(-3)) + " channels; per pixel: " + e.what());
  }
  return {r.output.movedim(-1, -3), sum_rightmost(r.log_det, 2)};
}

Result PixelwiseImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return run(x, context, /*forward=*/true);
}

Result PixelwiseImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return run(y, context, /*forward=*/false);
}

Bijector act_norm_2d(int64_t channels) { return Pixelwise(ActNorm(channels)); }

Bijector invertible_conv_1x1(int64_t channels, uint64_t seed) {
  return Pixelwise(LULinear(LULinearOptions(channels).seed(seed)));
}

}  // namespace diffeo
