#pragma once
// Bayesian networks: a sequence of Bayesian layers and activations, built with
// one of three posteriors so the methods compare on the same architecture.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "diffeo/bnn/bayesian_layer.h"
#include "diffeo/bnn/multiplicative_noise.h"

namespace diffeo::bnn {

/// The posterior over a network's weights: a point estimate (MAP, the
/// deterministic baseline), a mean-field Gaussian (Bayes by backprop) or a
/// multiplicative normalizing flow.
enum class Posterior { kPoint, kMeanField, kMNF };

/// "point", "mean_field", "mnf" <-> Posterior; parse throws diffeo::Error
/// listing the names.
Posterior parse_posterior(const std::string& name);
std::string posterior_name(Posterior posterior);

/// How to build a network's layers.
struct NetworkOptions {
  NetworkOptions(Posterior posterior = Posterior::kMNF) : posterior_(posterior) {}
  TORCH_ARG(Posterior, posterior);
  TORCH_ARG(LayerOptions, weights) = {};
  /// MNF only.
  TORCH_ARG(MultiplicativeNoiseOptions, noise) = {};
  /// "relu", "tanh", ... (nn::activate) between layers.
  TORCH_ARG(std::string, activation) = "relu";
};

/// One layer of the chosen posterior for `geometry`.
BayesianLayer make_layer(const LayerGeometry& geometry, const NetworkOptions& options);

/// A feed-forward network whose weight layers are BayesianLayers; forward(x)
/// runs `body` (one posterior draw per row), kl() sums the layers' kl().
class BayesianNetImpl : public torch::nn::Module {
 public:
  explicit BayesianNetImpl(torch::nn::Sequential body);

  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor kl();
  /// The weight layers, input to output.
  std::vector<BayesianLayer> layers() const;

 private:
  torch::nn::Sequential body_;
};
TORCH_MODULE(BayesianNet);

/// A multilayer perceptron with layer sizes {in, hidden..., out} (at least
/// two), the activation between layers and none after the last.
BayesianNet mlp(const std::vector<int64_t>& sizes, const NetworkOptions& options);

/// LeNet-5 as in the MNF paper: conv 5x5 (20) -> max-pool 2 -> act -> conv
/// 5x5 (50) -> max-pool 2 -> act -> dense 500 -> act -> dense classes, for
/// images [channels, height, width] with height, width >= 16.
BayesianNet lenet5(const std::vector<int64_t>& image_shape, int64_t classes,
                   const NetworkOptions& options);

}  // namespace diffeo::bnn
