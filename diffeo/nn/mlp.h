#pragma once
// A plain multilayer perceptron, the conditioner of coupling layers.

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "diffeo/nn/dense_kernels.h"

namespace diffeo::nn {

/// Options of an MLP: sizes, hidden widths, activation and context width.
struct MLPOptions {
  MLPOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(std::vector<int64_t>, hidden) = {64, 64};
  /// "relu", "tanh", "elu", "silu" or "leaky_relu".
  TORCH_ARG(std::string, activation) = "relu";
  /// Width of a context appended to the input (0: unconditional).
  TORCH_ARG(int64_t, context_features) = 0;
  /// Zero weights and bias in the last layer, so the output starts at 0 and a
  /// flow built on it starts at the identity.
  TORCH_ARG(bool, zero_last_layer) = true;
};

/// Linear -> activation -> ... -> Linear.  With context_features > 0,
/// forward(x, context) concatenates the context to x along the last dimension
/// (x [batch..., in], context [batch..., context_features] -> [batch..., out]);
/// an unconditional MLP ignores a context it is handed.
class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const MLPOptions& options);

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  const MLPOptions& options() const { return options_; }
  /// The context expanded to x's rows [batch..., context_features], or an
  /// undefined tensor for an unconditional MLP.
  torch::Tensor expanded_context(const torch::Tensor& x, const torch::Tensor& context) const;
  /// The layers for the fused kernels (nullopt for an activation they lack).
  std::optional<DenseLayers> dense_layers() const;

 private:
  MLPOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(MLP);

/// The activation function named `name` (see MLPOptions::activation); throws
/// diffeo::Error listing the valid names otherwise.
torch::Tensor activate(const std::string& name, const torch::Tensor& x);
/// Throws diffeo::Error unless `name` is a valid activation.
void check_activation(const std::string& name, const std::string& where);

}  // namespace diffeo::nn
