#pragma once

#include "diffeo/bnn/bayesian_layer.h"

namespace diffeo::bnn {

/// The deterministic baseline: ordinary weights W, b (no posterior), trained
/// as a maximum a posteriori estimate under the same N(0, prior_variance)
/// prior, so kl() is the negative log prior up to a constant,
/// 0.5 (|W|^2 + |b|^2) / prior_variance (weight decay scaled by the data-set
/// size).  forward(x) is deterministic.
class PointLayerImpl : public BayesianLayerImpl {
 public:
  PointLayerImpl(const LayerGeometry& geometry, const LayerOptions& options = {});

  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor kl() override;

  torch::Tensor weight, bias;

 private:
  double prior_variance_;
};
TORCH_MODULE(PointLayer);

/// A dense PointLayer [in] -> [out].
class PointLinear : public PointLayer {
 public:
  PointLinear(int64_t in, int64_t out, const LayerOptions& options = {})
      : PointLayer(LayerGeometry::dense(in, out), options) {}
};

/// A convolutional PointLayer with a square kernel.
class PointConv2d : public PointLayer {
 public:
  PointConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
              const LayerOptions& options = {})
      : PointLayer(LayerGeometry::conv2d(in_channels, out_channels, kernel), options) {}
};

}  // namespace diffeo::bnn
