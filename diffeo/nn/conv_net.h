#pragma once
// The small convolutional conditioner of Glow's coupling layers.

#include <torch/torch.h>

#include <string>

namespace diffeo::nn {

/// Options of a ConvNet: channel counts, activation and context width.
struct ConvNetOptions {
  ConvNetOptions(int64_t in_channels, int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  /// Channels of the two hidden layers.
  TORCH_ARG(int64_t, hidden_channels) = 64;
  /// "relu", "tanh", "elu", "silu" or "leaky_relu" (see MLPOptions).
  TORCH_ARG(std::string, activation) = "relu";
  /// Width of a context appended as constant channels (0: unconditional).
  TORCH_ARG(int64_t, context_features) = 0;
  /// Zero weights and bias in the last layer, so the output starts at 0 and a
  /// coupling built on it starts at the identity.
  TORCH_ARG(bool, zero_last_layer) = true;
};

/// Glow's coupling network (Kingma & Dhariwal 2018): Conv3x3(in -> hidden),
/// activation, Conv1x1(hidden -> hidden), activation, Conv3x3(hidden -> out),
/// with zero padding so H and W are kept.  forward(x [batch..., in, H, W],
/// context [batch..., K]) -> [batch..., out, H, W]; any number of batch
/// dimensions (none included) is flattened into one for the convolutions.  With
/// context_features = K > 0, the context, broadcast to x's batch shape, is
/// appended to the input as K constant channels; an unconditional ConvNet
/// ignores a context it is handed.  The modules are "conv0", "conv1", "conv2".
class ConvNetImpl : public torch::nn::Module {
 public:
  explicit ConvNetImpl(const ConvNetOptions& options);

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  const ConvNetOptions& options() const { return options_; }

 private:
  ConvNetOptions options_;
  torch::nn::Conv2d conv0_{nullptr}, conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(ConvNet);

}  // namespace diffeo::nn
