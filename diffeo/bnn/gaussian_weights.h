#pragma once
// A factorised Gaussian over a layer's weights and biases: the posterior of
// Bayes by backprop, and q(W | z) of multiplicative normalizing flows.

#include <torch/torch.h>

#include "diffeo/bnn/bayesian_layer.h"

namespace diffeo::bnn {

/// KL(N(mean, std^2) || N(0, prior_variance)) summed over all elements, in
/// closed form: 0.5 sum(log(prior_var / std^2) + (std^2 + mean^2) / prior_var - 1).
torch::Tensor gaussian_kl(const torch::Tensor& mean, const torch::Tensor& std,
                          double prior_variance);

/// mean + sqrt(variance) * eps with eps ~ N(0, 1): a draw of a layer's
/// pre-activations under local reparameterisation (Kingma et al. 2015), where
/// each output is Gaussian given the input because the weights are.
torch::Tensor sample_local(const torch::Tensor& mean, const torch::Tensor& variance);

/// Parameters of q(W) = prod N(weight_mean, weight_std^2) and q(b) likewise,
/// with std = min(exp(log_std), max_std).  Means start from N(0, 4 / (fan_in
/// + out)) as in the MNF code, log sds at options.initial_log_std.
class GaussianWeightsImpl : public torch::nn::Module {
 public:
  GaussianWeightsImpl(const LayerGeometry& geometry, const LayerOptions& options);

  torch::Tensor weight_std() const;
  torch::Tensor bias_std() const;
  /// x -> (mean, variance) of the pre-activations when every weight is drawn
  /// from N(s m, sd^2), m its mean and s MNF's z where it applies: per input
  /// `input_scale` [B, in] (dense layers) or per output channel `output_scale`
  /// [B, out] (convolutions); undefined: 1.  The mean is the weight term of x
  /// scaled accordingly plus the bias mean; the variance, x^2 against sd^2
  /// plus the bias variance, does not depend on z.
  std::pair<torch::Tensor, torch::Tensor> moments(const torch::Tensor& x,
                                                  const torch::Tensor& input_scale = {},
                                                  const torch::Tensor& output_scale = {}) const;
  /// KL(q(W, b) || p(W, b)) in closed form with the weight mean replaced by
  /// `mean_of_weights` (undefined: this layer's own).
  torch::Tensor kl(const torch::Tensor& mean_of_weights = {}) const;

  const LayerGeometry& geometry() const { return geometry_; }
  const LayerOptions& options() const { return options_; }

  torch::Tensor weight_mean, weight_log_std, bias_mean, bias_log_std;

 private:
  LayerGeometry geometry_;
  LayerOptions options_;
};
TORCH_MODULE(GaussianWeights);

/// Throws diffeo::Error naming `where` unless the options are usable
/// (positive finite prior variance and max_std, finite initial_log_std).
void check_layer_options(const LayerOptions& options, const std::string& where);

}  // namespace diffeo::bnn
