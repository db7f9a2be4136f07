#pragma once
// MADE: a masked autoencoder whose outputs are autoregressive in its inputs.

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "diffeo/nn/dense_kernels.h"

namespace diffeo::nn {

/// Options of a MADE network.
struct MADEOptions {
  explicit MADEOptions(int64_t features) : features_(features) {}
  /// D, the number of autoregressive inputs.
  TORCH_ARG(int64_t, features);
  TORCH_ARG(std::vector<int64_t>, hidden) = {64, 64};
  /// Outputs per input feature (2 for an affine transform, 3K - 1 for a spline).
  TORCH_ARG(int64_t, outputs_per_feature) = 2;
  /// Width of a context that feeds every first-layer unit, never masked.
  TORCH_ARG(int64_t, context_features) = 0;
  TORCH_ARG(std::string, activation) = "relu";
  /// Input order: false = 0, 1, ..., D-1; true = reversed.
  TORCH_ARG(bool, reverse_order) = false;
  /// Zero the output layer so a flow built on it starts at the identity.
  TORCH_ARG(bool, zero_last_layer) = true;
};

/// Masked Autoencoder for Distribution Estimation (Germain et al. 2015), the
/// conditioner of MAF and IAF.  Input degrees are 1..D in the chosen order,
/// hidden degrees cycle through 1..D-1 (0..D-1 with a context, which feeds
/// every first-layer unit), and masks connect a unit only to units of lower or
/// equal degree (strictly lower into the outputs), so output i depends on the
/// inputs that precede i in the order (and the context) and never on input i
/// or later ones.  forward(x [batch..., D], context) -> [batch..., D, P] with P =
/// outputs_per_feature: the P values of feature i are in [..., i, :].
class MADEImpl : public torch::nn::Module {
 public:
  explicit MADEImpl(const MADEOptions& options);

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  const MADEOptions& options() const { return options_; }
  /// The position of each feature in the autoregressive order (1-based degree).
  torch::Tensor input_degrees() const { return input_degrees_; }
  /// The degrees of the inputs, of each hidden layer's units and of the
  /// outputs (L + 1 CPU float vectors; the P outputs of feature i have i's
  /// degree): a hidden unit of degree m sees the units below of degree <= m
  /// (and the context; 0 = the context only), an output those of degree < m.
  const std::vector<torch::Tensor>& layer_degrees() const { return layer_degrees_; }
  /// The layers' weights [out, in] (the layers use weight * mask; they start
  /// zero outside the mask, which the masked gradients keep) and biases [out],
  /// the hidden layers then the output layer.
  const std::vector<torch::Tensor>& weights() const { return weights_; }
  const std::vector<torch::Tensor>& biases() const { return biases_; }
  /// The context's map into the first hidden layer's pre-activation (null without a context).
  const torch::nn::Linear& context_layer() const { return context_layer_; }
  /// The layers for the fused kernels, the masks given by the degrees
  /// (nullopt with a context or an activation they lack).
  std::optional<DenseLayers> dense_layers() const;

 private:
  MADEOptions options_;
  std::vector<torch::Tensor> weights_, biases_, masks_;
  std::vector<torch::Tensor> layer_degrees_;  // not buffers: the options fix them
  torch::nn::Linear context_layer_{nullptr};
  torch::Tensor input_degrees_;
};
TORCH_MODULE(MADE);

}  // namespace diffeo::nn
