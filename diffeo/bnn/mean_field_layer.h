#pragma once

#include "diffeo/bnn/bayesian_layer.h"
#include "diffeo/bnn/gaussian_weights.h"

namespace diffeo::bnn {

/// The mean-field Gaussian baseline, Bayes by backprop (Blundell et al. 2015)
/// with local reparameterisation (Kingma et al. 2015): q(W) = prod N(mu, sd^2)
/// and forward(x) samples each output from its Gaussian given x, so every row
/// sees an independent weight draw at the cost of two products.  kl() is exact.
class MeanFieldLayerImpl : public BayesianLayerImpl {
 public:
  MeanFieldLayerImpl(const LayerGeometry& geometry, const LayerOptions& options = {});

  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor kl() override;

  GaussianWeights weights() const { return weights_; }

 private:
  GaussianWeights weights_ = nullptr;
};
TORCH_MODULE(MeanFieldLayer);

/// A dense MeanFieldLayer [in] -> [out].
class MeanFieldLinear : public MeanFieldLayer {
 public:
  MeanFieldLinear(int64_t in, int64_t out, const LayerOptions& options = {})
      : MeanFieldLayer(LayerGeometry::dense(in, out), options) {}
};

/// A convolutional MeanFieldLayer with a square kernel.
class MeanFieldConv2d : public MeanFieldLayer {
 public:
  MeanFieldConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
                  const LayerOptions& options = {})
      : MeanFieldLayer(LayerGeometry::conv2d(in_channels, out_channels, kernel), options) {}
};

}  // namespace diffeo::bnn
