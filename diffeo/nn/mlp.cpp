#include "diffeo/nn/mlp.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo::nn {

static const std::vector<std::string> kActivations = {"relu", "tanh", "elu", "silu", "leaky_relu"};

void check_activation(const std::string& name, const std::string& where) {
  for (const auto& valid : kActivations)
    if (name == valid) return;
  std::string names;
  for (const auto& valid : kActivations) names += (names.empty() ? "" : ", ") + valid;
  throw Error(where + ": argument 'activation' is '" + name + "'; expected one of " + names);
}

torch::Tensor activate(const std::string& name, const torch::Tensor& x) {
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  if (name == "elu") return torch::elu(x);
  if (name == "silu") return torch::silu(x);
  if (name == "leaky_relu") return torch::leaky_relu(x, 0.01);
  check_activation(name, "activate");
  return x;
}

MLPImpl::MLPImpl(const MLPOptions& options) : options_(options) {
  check_positive(options.in_features(), "in_features", "MLP");
  check_positive(options.out_features(), "out_features", "MLP");
  if (options.context_features() < 0)
    throw Error("MLP: argument 'context_features' must be >= 0, got " +
                std::to_string(options.context_features()));
  for (auto width : options.hidden()) check_positive(width, "hidden", "MLP");
  check_activation(options.activation(), "MLP");

  int64_t in = options.in_features() + options.context_features();
  std::vector<int64_t> widths = options.hidden();
  widths.push_back(options.out_features());
  for (size_t i = 0; i < widths.size(); ++i) {
    layers_.push_back(
        register_module("linear" + std::to_string(i), torch::nn::Linear(in, widths[i])));
    in = widths[i];
  }
  if (options.zero_last_layer()) {
    torch::NoGradGuard no_grad;
    layers_.back()->weight.zero_();
    layers_.back()->bias.zero_();
  }
}

torch::Tensor MLPImpl::expanded_context(const torch::Tensor& x,
                                        const torch::Tensor& context) const {
  if (options_.context_features() == 0) return {};
  return expand_context_to(context, x, 1, options_.context_features(), "MLP");
}

std::optional<DenseLayers> MLPImpl::dense_layers() const {
  auto activation = kernel_activation(options_.activation());
  if (!activation) return std::nullopt;
  DenseLayers layers;
  layers.activation = *activation;
  for (const auto& linear : layers_) {
    layers.weights.push_back(linear->weight);
    layers.biases.push_back(linear->bias);
  }
  return layers;
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  auto h = options_.context_features() > 0 ? torch::cat({x, expanded_context(x, context)}, -1) : x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) h = activate(options_.activation(), h);
  }
  return h;
}

}  // namespace diffeo::nn
