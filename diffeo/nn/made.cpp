#include "diffeo/nn/made.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::nn {

MADEImpl::MADEImpl(const MADEOptions& options) : options_(options) {
  const int64_t D = options.features(), P = options.outputs_per_feature();
  check_positive(D, "features", "MADE");
  check_positive(P, "outputs_per_feature", "MADE");
  if (options.context_features() < 0)
    throw Error("MADE: argument 'context_features' must be >= 0, got " +
                std::to_string(options.context_features()));
  if (options.hidden().empty())
    throw Error("MADE: argument 'hidden' must list at least one hidden layer width");
  for (auto width : options.hidden()) check_positive(width, "hidden", "MADE");
  check_activation(options.activation(), "MADE");

  auto degrees = torch::arange(1, D + 1, torch::kLong);
  if (options.reverse_order()) degrees = degrees.flip(0);
  input_degrees_ = register_buffer("input_degrees", degrees.to(torch::kFloat));

  // Hidden degrees cycle through 1..D-1 (all 1 when D == 1: no hidden unit then
  // feeds the first feature, which is right: it is unconditional).  With a
  // context they start at 0: degree-0 units see only the context, so the first
  // feature's parameters depend on it too.
  const int64_t min_degree = options.context_features() > 0 ? 0 : 1;
  const int64_t degree_count = std::max<int64_t>(D - min_degree, 1);
  torch::Tensor previous = degrees;
  int64_t in = D;
  layer_degrees_.push_back(degrees.to(torch::kFloat));
  auto add_layer = [&](int64_t out, const torch::Tensor& out_degrees, bool strict) {
    auto mask = strict ? out_degrees.unsqueeze(1) > previous.unsqueeze(0)
                       : out_degrees.unsqueeze(1) >= previous.unsqueeze(0);
    torch::nn::Linear init(in, out);  // PyTorch's default initialisation
    const auto index = std::to_string(weights_.size());
    // Zero outside the mask (the values there never count): the fused kernels
    // then use the weight without a masked copy.
    weights_.push_back(register_parameter(
        "weight" + index, (init->weight * mask.to(init->weight.dtype())).detach()));
    biases_.push_back(register_parameter("bias" + index, init->bias.detach().clone()));
    masks_.push_back(register_buffer("mask" + index, mask.to(torch::kFloat)));
    layer_degrees_.push_back(out_degrees.to(torch::kFloat));
    previous = out_degrees;
    in = out;
  };
  for (auto width : options.hidden())
    add_layer(width, torch::arange(width, torch::kLong) % degree_count + min_degree, false);
  add_layer(D * P, degrees.repeat_interleave(P), true);
  if (options.zero_last_layer()) {
    torch::NoGradGuard no_grad;
    weights_.back().zero_();
    biases_.back().zero_();
  }
  if (options.context_features() > 0)
    context_layer_ = register_module(
        "context", torch::nn::Linear(options.context_features(), options.hidden().front()));
}

std::optional<DenseLayers> MADEImpl::dense_layers() const {
  auto activation = kernel_activation(options_.activation());
  if (!activation || context_layer_) return std::nullopt;
  return DenseLayers{weights_, biases_, {}, *activation, layer_degrees_};
}

torch::Tensor MADEImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  auto h = torch::nn::functional::linear(x, weights_[0] * masks_[0], biases_[0]);
  if (context_layer_) {
    h = h + context_layer_->forward(
                expand_context_to(context, x, 1, options_.context_features(), "MADE"));
  }
  for (size_t i = 1; i < weights_.size(); ++i) {
    h = activate(options_.activation(), h);
    h = torch::nn::functional::linear(h, weights_[i] * masks_[i], biases_[i]);
  }
  auto shape = x.sizes().vec();
  shape.push_back(options_.outputs_per_feature());
  return h.reshape(shape);
}

}  // namespace diffeo::nn
