#include "diffeo/bijectors/factor_out.h"

#include "diffeo/bijectors/conv_coupling.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

FactorOutImpl::FactorOutImpl(int64_t channels, Bijector inner, torch::nn::AnyModule conditioner,
                             Transform transform)
    : BijectorImpl(/*event_rank=*/3),
      channels_(channels),
      conditioner_(std::move(conditioner)),
      transform_(std::move(transform)) {
  if (channels < 2)
    throw Error("FactorOut: argument 'channels' must be >= 2 to factor out half, got " +
                std::to_string(channels));
  if (inner.is_empty()) throw Error("FactorOut: argument 'inner' is empty (nullptr)");
  if (inner->event_rank() != 3)
    throw Error(
        "FactorOut: argument 'inner' must act on CHW images (event rank 3), got event rank " +
        std::to_string(inner->event_rank()));
  if (conditioner_.is_empty()) throw Error("FactorOut: argument 'conditioner' is empty");
  if (!transform_) throw Error("FactorOut: argument 'transform' is null");
  inner_ = register_module("inner", inner);
  register_module("conditioner", conditioner_.ptr());
}

// The conditioner always sees the data-side y1: inner's output going forward,
// its input going backward.
Result FactorOutImpl::run(const torch::Tensor& input, const torch::Tensor& context, bool inverse,
                          const std::string& arg) {
  check_channels(input, arg, channels_, "FactorOut");
  const auto split = channels_ / 2;
  auto first = input.narrow(-3, 0, split);
  auto inner = inverse ? inner_->inverse_and_log_det(first, context)
                       : inner_->forward_and_log_det(first, context);
  if (inner.output.sizes() != first.sizes())
    throw Error("FactorOut: argument 'inner' changed the shape " + shape_string(first.sizes()) +
                " to " + shape_string(inner.output.sizes()) + "; it must keep it");
  const auto& y1 = inverse ? first : inner.output;
  auto r =
      couple_channels(conditioner_, *transform_, y1, input.narrow(-3, split, channels_ - split),
                      context, inverse, "FactorOut");
  return {torch::cat({inner.output, r.output}, -3), inner.log_det + r.log_det};
}

Result FactorOutImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return run(x, context, /*inverse=*/false, "x");
}

Result FactorOutImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return run(y, context, /*inverse=*/true, "y");
}

}  // namespace diffeo
