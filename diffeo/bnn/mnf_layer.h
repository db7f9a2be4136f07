#pragma once

#include "diffeo/bnn/bayesian_layer.h"
#include "diffeo/bnn/gaussian_weights.h"
#include "diffeo/bnn/multiplicative_noise.h"

namespace diffeo::bnn {

/// Options of an MNF layer: the Gaussian weights' and the latent's.
struct MNFOptions {
  TORCH_ARG(LayerOptions, weights) = {};
  TORCH_ARG(MultiplicativeNoiseOptions, noise) = {};
};

/// A layer with a multiplicative normalizing flow posterior (Louizos &
/// Welling 2017): q(W) = integral q(W | z) q(z) dz with q(W | z) = prod
/// N(z_i mu_ij, sd_ij^2), z scaling the weights of one input unit (dense) or
/// one output channel (convolution), and q(z) a flow (MultiplicativeNoise).
/// forward(x) draws z per row, then the outputs by local reparameterisation
/// given z.  kl() estimates the paper's bound, with one draw of z and W:
///   KL(q(W) || p(W)) <= E[KL(q(W | z) || p(W)) + log q(z) - log r(z | W)].
class MNFLayerImpl : public BayesianLayerImpl {
 public:
  MNFLayerImpl(const LayerGeometry& geometry, const MNFOptions& options = {});

  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor kl() override;

  GaussianWeights weights() const { return weights_; }
  MultiplicativeNoise noise() const { return noise_; }
  /// The shape that broadcasts z [dim] against the weights viewed as [out, fan_in].
  std::vector<int64_t> z_shape() const;

 private:
  GaussianWeights weights_ = nullptr;
  MultiplicativeNoise noise_ = nullptr;
};
TORCH_MODULE(MNFLayer);

/// A dense MNF layer [in] -> [out]; z has one entry per input unit.
class MNFLinear : public MNFLayer {
 public:
  MNFLinear(int64_t in, int64_t out, const MNFOptions& options = {})
      : MNFLayer(LayerGeometry::dense(in, out), options) {}
};

/// A convolutional MNF layer with a square kernel; z has one entry per output channel.
class MNFConv2d : public MNFLayer {
 public:
  MNFConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
            const MNFOptions& options = {})
      : MNFLayer(LayerGeometry::conv2d(in_channels, out_channels, kernel), options) {}
};

}  // namespace diffeo::bnn
