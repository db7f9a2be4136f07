#pragma once
// The interface every layer of a Bayesian network implements.

#include <torch/torch.h>

#include <memory>
#include <type_traits>

#include "diffeo/bnn/layer_geometry.h"

namespace diffeo::bnn {

/// Options shared by the layers: the Gaussian prior p(w) = N(0,
/// prior_variance) on every weight and bias, and, for the layers with a
/// Gaussian posterior, the cap on posterior standard deviations (the authors'
/// `thres_var`: a weight whose noise would swamp its signal is capped, not
/// removed) and their starting value (log sd -9, as in the MNF code, so
/// training starts close to a point estimate).
struct LayerOptions {
  TORCH_ARG(double, prior_variance) = 1.0;
  TORCH_ARG(double, max_std) = 1.0;
  TORCH_ARG(double, initial_log_std) = -9.0;
  /// Whether the KL sees the capped sds too (a true bound on the ELBO) or the
  /// uncapped ones, as the MNF authors' code does: there a weight may sit at
  /// the prior at no KL cost while the forward pass draws it with sd at most
  /// max_std (their scripts pass 0.5), which is no longer a bound.
  TORCH_ARG(bool, cap_std_in_kl) = true;
};

/// A weight layer of a Bayesian network.  forward(x) draws a fresh sample of
/// the layer's output for every row of x (the posterior is sampled, not its
/// mean: predictions average several calls); kl() is the layer's term of the
/// ELBO's complexity cost, a (possibly stochastic) estimate of KL(q(W) ||
/// p(W)) in nats, summed over the layer; for MNF layers an estimate of an
/// upper bound.  A network's loss per data point is its mean negative
/// log-likelihood plus the sum of kl() over layers divided by the data-set size.
class BayesianLayerImpl : public torch::nn::Module {
 public:
  explicit BayesianLayerImpl(LayerGeometry geometry) : geometry_(geometry) {}

  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual torch::Tensor kl() = 0;

  const LayerGeometry& geometry() const { return geometry_; }

 private:
  LayerGeometry geometry_;
};

/// A shared handle to any Bayesian layer; concrete holders convert to it.
class BayesianLayer : public torch::nn::ModuleHolder<BayesianLayerImpl> {
 public:
  BayesianLayer(std::nullptr_t) : ModuleHolder(nullptr) {}
  template <typename T,
            typename = std::enable_if_t<std::is_base_of<BayesianLayerImpl, T>::value>>
  BayesianLayer(const torch::nn::ModuleHolder<T>& holder)
      : ModuleHolder(std::shared_ptr<BayesianLayerImpl>(holder.ptr())) {}
};

}  // namespace diffeo::bnn
