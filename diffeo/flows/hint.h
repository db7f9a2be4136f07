#pragma once
// HINT (Kruse et al., "HINT: Hierarchical Invertible Neural Transport for
// Density Estimation and Bayesian Inference", AAAI 2021): the unconditional
// flow's bijector and the two-lane conditional model for posterior sampling.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/distributions/normal.h"
#include "diffeo/flows/flow_options.h"

namespace diffeo::flows {

/// HINT's bijector: `layers` (default 6) blocks, each a Householder
/// reflection product (dim reflections, seeded seed + block index) followed in
/// the density direction by a HierarchicalCoupling (hidden, activation,
/// context_features, log_scale_bound; min_split 2).  Works for any dim >= 1 and
/// starts at a random rotation (the couplings start at the identity).
Bijector hint_bijector(const FlowOptions& options);

/// Options of ConditionalHINT, TORCH_ARG style: ConditionalHINTOptions(2, 2).layers(4).
struct ConditionalHINTOptions {
  ConditionalHINTOptions(int64_t x_dim, int64_t y_dim) : x_dim_(x_dim), y_dim_(y_dim) {}
  /// Size of the unknowns x (the posterior's variable).
  TORCH_ARG(int64_t, x_dim);
  /// Size of the observations y (the condition).
  TORCH_ARG(int64_t, y_dim);
  /// Blocks per lane (>= 1).
  TORCH_ARG(int64_t, layers) = 4;
  /// Top-level conditioner widths of every HierarchicalCoupling (halved per level).
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// The y lane's conditioner widths (empty: `hidden`).  The authors' Fourier
  /// models give the y lane a quarter of the x lane's width.
  TORCH_ARG(std::vector<int64_t>, y_hidden) = std::vector<int64_t>{};
  /// How y reaches the x lane:
  ///   "every_coupling" (diffeo's default): every conditioner of every x
  ///     HierarchicalCoupling also reads the y lane's state y_l;
  ///   "external" (the authors' code): the x couplings do not see y; each x
  ///     block ends, in the density direction, with an elementwise affine map
  ///     of all of x whose shift and log-scale (soft-clamped at 5) are an MLP of
  ///     y_l alone (ConditionalElementwise), with widths `external_hidden`.
  TORCH_ARG(std::string, conditioning) = "every_coupling";
  /// Widths of the "external" conditioning's MLPs (empty: `hidden`).
  TORCH_ARG(std::vector<int64_t>, external_hidden) = std::vector<int64_t>{};
  TORCH_ARG(std::string, activation) = "relu";
  /// HierarchicalCoupling's min_split and soft log-scale clamp.
  TORCH_ARG(int64_t, min_split) = 2;
  TORCH_ARG(double, log_scale_bound) = 2.0;
  /// Seeds every initial weight (Householder vectors and conditioners).
  TORCH_ARG(uint64_t, seed) = 0;
};

/// The latent code of a pair (x, y) and the density-direction log-dets of its two lanes.
struct HINTLatent {
  torch::Tensor z_x, z_y;
  torch::Tensor log_det_x, log_det_y;
};

/// Conditional HINT: a joint density p(x, y) whose map to the base N(0, I) on
/// (z_y, z_x) is block triangular, so the same model gives p(y), p(x | y) and
/// exact posterior sampling.  Two lanes of `layers` blocks each; in the
/// density direction, for l = 1 .. L,
///     y_l = B^y_l^-1(y_{l-1}),           B^y_l = Householder o HierarchicalCoupling on y,
///     x_l = B^x_l^-1(x_{l-1}; y_l),      B^x_l = the same on x, every conditioner
///                                         also seeing the y lane's state y_l
///                                         (or, with "external" conditioning,
///                                         followed by an affine map of x set by y_l),
/// with (z_y, z_x) = (y_L, x_L).  z_y depends on y only, so
///     log p(y)     = log N(z_y) + sum_l log|det dy_l/dy_{l-1}|,
///     log p(x | y) = log N(z_x) + sum_l log|det dx_l/dx_{l-1}|,
/// and log p(x, y) is their sum.  Posterior sampling runs y through the y lane
/// once to get the states y_1 .. y_L, draws z_x ~ N(0, I) and runs the x lane
/// backwards conditioned on them: exact draws from the model's p(x | y).
/// A torch::nn::Module: train it by minimising -log_prob(x, y).mean().
/// x and y are [batch..., x_dim] and [batch..., y_dim] with equal batch shapes.
class ConditionalHINTImpl : public torch::nn::Module {
 public:
  explicit ConditionalHINTImpl(ConditionalHINTOptions options);

  /// log p(x, y), [batch...].
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& y);
  /// log p(y), the y lane's marginal, [batch...].
  torch::Tensor log_prob_y(const torch::Tensor& y);
  /// log p(x | y) = log p(x, y) - log p(y), [batch...].
  torch::Tensor log_prob_x_given_y(const torch::Tensor& x, const torch::Tensor& y);

  /// n joint draws (x [n, x_dim], y [n, y_dim]).
  std::pair<torch::Tensor, torch::Tensor> sample_joint(
      int64_t n, c10::optional<at::Generator> generator = c10::nullopt);
  /// n draws from p(x | y) for one observation y ([y_dim] or [1, y_dim]): [n, x_dim].
  torch::Tensor sample_posterior(const torch::Tensor& y, int64_t n,
                                 c10::optional<at::Generator> generator = c10::nullopt);

  /// The density direction: (x, y) -> (z_x, z_y) with both lanes' log-dets.
  HINTLatent encode(const torch::Tensor& x, const torch::Tensor& y);
  /// The sampling direction: (z_x, z_y) -> (x, y).
  std::pair<torch::Tensor, torch::Tensor> decode(const torch::Tensor& z_x,
                                                 const torch::Tensor& z_y);

  const ConditionalHINTOptions& options() const { return options_; }

 private:
  struct YLane {
    std::vector<torch::Tensor> states;  // y_1 .. y_L
    torch::Tensor log_det;
  };
  YLane run_y_lane(const torch::Tensor& y);
  /// x_0 from x_L = z_x, conditioned on the y lane's states.
  torch::Tensor x_from_latent(const torch::Tensor& z_x, const std::vector<torch::Tensor>& states);
  void check_pair(const torch::Tensor& x, const torch::Tensor& y) const;

  ConditionalHINTOptions options_;
  std::vector<Bijector> y_blocks_, x_blocks_;
  StandardNormal base_x_ = nullptr, base_y_ = nullptr;
};
TORCH_MODULE(ConditionalHINT);

}  // namespace diffeo::flows
