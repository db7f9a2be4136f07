#include "diffeo/bijectors/conv_coupling.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

void check_channels(const torch::Tensor& image, const std::string& arg, int64_t channels,
                    const std::string& where) {
  if (image.size(-3) != channels)
    throw Error(where + ": argument '" + arg + "' has " + std::to_string(image.size(-3)) +
                " channels (shape " + shape_string(image.sizes()) + ") but " +
                std::to_string(channels) + " channels are expected ([batch..., C, H, W])");
}

Result couple_channels(torch::nn::AnyModule& conditioner, const ElementwiseTransform& transform,
                       const torch::Tensor& identity, const torch::Tensor& transformed,
                       const torch::Tensor& context, bool inverse, const std::string& where) {
  const auto n = transformed.size(-3), H = transformed.size(-2), W = transformed.size(-1);
  const auto P = transform.parameters_per_feature();
  const auto batch = transformed.sizes().slice(0, transformed.dim() - 3);
  auto shape = [&batch](std::initializer_list<int64_t> tail) {
    auto s = batch.vec();
    s.insert(s.end(), tail);
    return s;
  };
  auto out = conditioner.forward(identity, context);
  if (out.sizes() != torch::IntArrayRef(shape({n * P, H, W})))
    throw Error(where + ": the conditioner returned shape " + shape_string(out.sizes()) + " but " +
                shape_string(shape({n * P, H, W})) + " is needed (" + std::to_string(n) +
                " channels x " + std::to_string(P) + " parameters per value)");
  // [batch..., n, P, H, W] -> [batch..., n * H * W, P], the layout Transform::apply takes.
  auto params = out.reshape(shape({n, P, H, W})).movedim(-3, -1).reshape(shape({n * H * W, P}));
  auto r = transform.apply(transformed.reshape(shape({n * H * W})), params, inverse);
  return {r.output.reshape(transformed.sizes()), r.log_det.sum(-1)};
}

ConvCouplingImpl::ConvCouplingImpl(int64_t channels, torch::nn::AnyModule conditioner,
                                   Transform transform)
    : BijectorImpl(/*event_rank=*/3),
      channels_(channels),
      conditioner_(std::move(conditioner)),
      transform_(std::move(transform)) {
  if (channels < 2)
    throw Error("ConvCoupling: argument 'channels' must be >= 2 for a coupling, got " +
                std::to_string(channels));
  if (conditioner_.is_empty()) throw Error("ConvCoupling: argument 'conditioner' is empty");
  if (!transform_) throw Error("ConvCoupling: argument 'transform' is null");
  register_module("conditioner", conditioner_.ptr());
}

Result ConvCouplingImpl::couple(const torch::Tensor& input, const torch::Tensor& context,
                                bool inverse, const std::string& arg) {
  check_channels(input, arg, channels_, "ConvCoupling");
  const auto split = channels_ / 2;
  auto identity = input.narrow(-3, 0, split);
  auto r =
      couple_channels(conditioner_, *transform_, identity,
                      input.narrow(-3, split, channels_ - split), context, inverse, "ConvCoupling");
  return {torch::cat({identity, r.output}, -3), r.log_det};
}

Result ConvCouplingImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return couple(x, context, /*inverse=*/false, "x");
}

Result ConvCouplingImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return couple(y, context, /*inverse=*/true, "y");
}

}  // namespace diffeo
