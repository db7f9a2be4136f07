#pragma once
// The shape of a weight layer, dense or convolutional, and the one product
// that differs between them; the Bayesian layers are written once against it.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace diffeo::bnn {

/// A dense layer [in] -> [out] (weight [out, in]) or a 2-D convolution with
/// in -> out channels, a square kernel, stride and padding (weight [out, in,
/// k, k]).  apply() is x W^T + b or conv2d(x, W) + b, so a layer's mean and,
/// with squared inputs and variances, its variance under local
/// reparameterisation come from the same call.
struct LayerGeometry {
  static LayerGeometry dense(int64_t in, int64_t out);
  static LayerGeometry conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
                              int64_t stride = 1, int64_t padding = 0);

  int64_t in = 0, out = 0;
  int64_t kernel = 0;  // 0: dense
  int64_t stride = 1, padding = 0;

  bool is_conv() const { return kernel > 0; }
  std::vector<int64_t> weight_shape() const;
  /// Inputs feeding one output: in (dense) or in * k * k (conv).
  int64_t fan_in() const { return is_conv() ? in * kernel * kernel : in; }
  /// x W^T + b (dense, x [B, in]) or conv2d (x [B, in, H, W]); `bias` may be undefined.
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) const;
  /// Throws diffeo::Error naming `where` unless x is a defined floating
  /// tensor of shape [B, in] (dense) or [B, in, H, W] (conv).
  void check_input(const torch::Tensor& x, const std::string& where) const;
  /// "dense 784 -> 300" or "conv2d 1 -> 20, kernel 5".
  std::string describe() const;
};

}  // namespace diffeo::bnn
