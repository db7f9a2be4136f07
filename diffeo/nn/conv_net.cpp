#include "diffeo/nn/conv_net.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::nn {

static torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
}

ConvNetImpl::ConvNetImpl(const ConvNetOptions& options) : options_(options) {
  check_positive(options.in_channels(), "in_channels", "ConvNet");
  check_positive(options.out_channels(), "out_channels", "ConvNet");
  check_positive(options.hidden_channels(), "hidden_channels", "ConvNet");
  if (options.context_features() < 0)
    throw Error("ConvNet: argument 'context_features' must be >= 0, got " +
                std::to_string(options.context_features()));
  check_activation(options.activation(), "ConvNet");
  const auto hidden = options.hidden_channels();
  conv0_ =
      register_module("conv0", conv(options.in_channels() + options.context_features(), hidden, 3));
  conv1_ = register_module("conv1", conv(hidden, hidden, 1));
  conv2_ = register_module("conv2", conv(hidden, options.out_channels(), 3));
  if (options.zero_last_layer()) {
    torch::NoGradGuard no_grad;
    conv2_->weight.zero_();
    conv2_->bias.zero_();
  }
}

torch::Tensor ConvNetImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  if (x.dim() < 3 || x.size(-3) != options_.in_channels())
    throw Error("ConvNet: argument 'x' of shape " + shape_string(x.sizes()) +
                " should be [batch..., " + std::to_string(options_.in_channels()) + ", H, W]");
  const auto H = x.size(-2), W = x.size(-1);
  auto batch = x.sizes().slice(0, x.dim() - 3).vec();
  auto h = x.reshape({-1, options_.in_channels(), H, W});
  if (const auto K = options_.context_features(); K > 0) {
    auto rows = expand_context_to(context, x, 3, K, "ConvNet").reshape({-1, K, 1, 1});
    h = torch::cat({h, rows.expand({-1, K, H, W})}, 1);
  }
  h = activate(options_.activation(), conv0_->forward(h));
  h = activate(options_.activation(), conv1_->forward(h));
  h = conv2_->forward(h);
  batch.insert(batch.end(), {options_.out_channels(), H, W});
  return h.reshape(batch);
}

}  // namespace diffeo::nn
