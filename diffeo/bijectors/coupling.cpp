#include "diffeo/bijectors/coupling.h"

#include "diffeo/bijectors/fused_layer.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/nn/mlp.h"

namespace diffeo {

static void check_parts(const torch::nn::AnyModule& conditioner, const Transform& transform,
                        const std::string& where) {
  if (conditioner.is_empty()) throw Error(where + ": argument 'conditioner' is empty");
  if (!transform) throw Error(where + ": argument 'transform' is null");
}

torch::Tensor conditioner_parameters(torch::nn::AnyModule& conditioner, const torch::Tensor& input,
                                     const torch::Tensor& context, int64_t n, int64_t P,
                                     const std::string& where) {
  auto out = conditioner.forward(input, context);
  if (out.dim() < 1 || out.size(-1) != n * P)
    throw Error(where + ": the conditioner returned shape " + shape_string(out.sizes()) + " but " +
                std::to_string(n) + " features x " + std::to_string(P) +
                " parameters = " + std::to_string(n * P) + " outputs per row are needed");
  auto shape = out.sizes().vec();
  shape.back() = n;
  shape.push_back(P);
  return out.reshape(shape);
}

MaskedCouplingImpl::MaskedCouplingImpl(torch::Tensor mask, torch::nn::AnyModule conditioner,
                                       Transform transform)
    : BijectorImpl(1), conditioner_(std::move(conditioner)), transform_(std::move(transform)) {
  check_parts(conditioner_, transform_, "MaskedCoupling");
  check_defined(mask, "mask", "MaskedCoupling");
  if (mask.dim() != 1 || !((mask == 0) | (mask == 1)).all().item<bool>())
    throw Error("MaskedCoupling: argument 'mask' must be a 1-D tensor of 0s and 1s, got shape " +
                shape_string(mask.sizes()));
  mask_ = register_buffer("mask", mask.to(torch::get_default_dtype()));
  register_module("conditioner", conditioner_.ptr());
  set_event_shape({mask.size(0)});
}

Result MaskedCouplingImpl::couple(const torch::Tensor& input, const torch::Tensor& context,
                                  bool inverse) {
  const auto D = mask_.size(0);
  auto params = conditioner_parameters(conditioner_, input * mask_, context, D,
                                       transform_->parameters_per_feature(), "MaskedCoupling");
  auto r = transform_->apply(input, params, inverse);
  auto keep = mask_ > 0.5;
  return {torch::where(keep, input, r.output), torch::where(keep, 0, r.log_det).sum(-1)};
}

Result MaskedCouplingImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return couple(x, context, /*inverse=*/false);
}

Result MaskedCouplingImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return couple(y, context, /*inverse=*/true);
}

SplitCouplingImpl::SplitCouplingImpl(int64_t features, int64_t split,
                                     torch::nn::AnyModule conditioner, Transform transform)
    : BijectorImpl(1),
      features_(features),
      split_(split),
      conditioner_(std::move(conditioner)),
      transform_(std::move(transform)) {
  check_parts(conditioner_, transform_, "SplitCoupling");
  if (features < 2 || split < 1 || split >= features)
    throw Error("SplitCoupling: needs features >= 2 and 1 <= split < features, got features " +
                std::to_string(features) + " and split " + std::to_string(split));
  register_module("conditioner", conditioner_.ptr());
  set_event_shape({features});
}

Result SplitCouplingImpl::couple(const torch::Tensor& input, const torch::Tensor& context,
                                 bool inverse) {
  // An MLP conditioner with the affine or spline transform: one fused autograd node.
  if (auto mlp = std::dynamic_pointer_cast<nn::MLPImpl>(conditioner_.ptr())) {
    auto first = input.narrow(-1, 0, split_);
    if (auto r = fused_layer(transform_, mlp->dense_layers(),
                             {input, split_, {}, mlp->expanded_context(first, context)}, inverse))
      return *r;
  }
  auto identity = input.narrow(-1, 0, split_);
  auto transformed = input.narrow(-1, split_, features_ - split_);
  auto params = conditioner_parameters(conditioner_, identity, context, features_ - split_,
                                       transform_->parameters_per_feature(), "SplitCoupling");
  auto r = transform_->apply(transformed, params, inverse);
  return {torch::cat({identity, r.output}, -1), r.log_det.sum(-1)};
}

Result SplitCouplingImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return couple(x, context, /*inverse=*/false);
}

Result SplitCouplingImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return couple(y, context, /*inverse=*/true);
}

}  // namespace diffeo
