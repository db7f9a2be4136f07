#pragma once
// The multiplicative latent z of MNF layers: its flow posterior q(z) and the
// auxiliary inverse model r(z | W) that makes the KL term tractable.

#include <torch/torch.h>

#include "diffeo/bijectors/bijector.h"

namespace diffeo::bnn {

/// Options of the MNF latent: flow lengths of q(z) and r(z | W), the hidden
/// width of their coupling networks (r uses twice this, as the authors do),
/// and the starting variance of q(z)'s Gaussian base.  Defaults follow the
/// authors' code.
struct MultiplicativeNoiseOptions {
  TORCH_ARG(int64_t, flow_steps_q) = 2;
  TORCH_ARG(int64_t, flow_steps_r) = 2;
  TORCH_ARG(int64_t, flow_hidden) = 50;
  TORCH_ARG(double, initial_variance) = 0.1;
};

/// A flow of `steps` masked couplings with the MNF gated update
/// (GatedAffineTransform) on `dim` features, each conditioner an MLP with one
/// tanh hidden layer of `hidden` units.  The masks come from one Bernoulli(1/2)
/// draw m: even steps keep m, odd steps its complement, so two steps move every
/// coordinate.  For dim 1 every step is the constant gated map (the mask is 0
/// and the conditioner sees nothing but its bias).  Draws from the global generator.
Bijector gated_coupling_flow(int64_t dim, int64_t steps, int64_t hidden);

/// The latent z in R^dim of one MNF layer (Louizos & Welling 2017, section 3).
/// q(z): z_0 ~ N(base_mean, exp(base_log_variance)), z = f_q(z_0) with a gated
/// coupling flow.  r(z | W): z_b = f_r(z) with a second flow, then
/// N(z_b; b1 t, 1 / exp(b2 t)) with t = mean(tanh(a)) and a = c^T W the
/// projection of a weight sample on c (computed by the layer, which knows
/// which axis of W z scales).  Base mean starts at 1: the layer starts as a
/// Gaussian (Bayes by backprop) layer (the authors' code starts it near 0,
/// N(0, 4 / dim), when q has flow steps: a noisier start).
class MultiplicativeNoiseImpl : public torch::nn::Module {
 public:
  MultiplicativeNoiseImpl(int64_t dim, const MultiplicativeNoiseOptions& options);

  /// n draws of z, [n, dim].
  torch::Tensor sample(int64_t n);
  /// One draw z [dim] and log q(z), with log q0(z_0) replaced by its
  /// expectation -H(q0) as in the authors' code (same mean, less variance):
  /// log q(z) ~= -H(q0) - log|det df_q/dz_0|.
  std::pair<torch::Tensor, torch::Tensor> sample_with_log_q();
  /// log r(z | W) for z [dim] (or a batch [n, dim]: one value per row) and
  /// projections a [m] (a scalar tensor, or [n]).
  torch::Tensor log_r(const torch::Tensor& z, const torch::Tensor& projections);

  int64_t dim() const { return dim_; }
  Bijector flow_q() const { return flow_q_; }
  Bijector flow_r() const { return flow_r_; }

  torch::Tensor base_mean, base_log_variance;
  /// c [dim] of a = c^T W, and the heads b1, b2 [dim] of r's mean and log precision.
  torch::Tensor projection, r_mean_head, r_log_precision_head;

 private:
  int64_t dim_;
  Bijector flow_q_ = nullptr, flow_r_ = nullptr;
};
TORCH_MODULE(MultiplicativeNoise);

}  // namespace diffeo::bnn
