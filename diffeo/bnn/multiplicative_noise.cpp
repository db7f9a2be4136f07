#include "diffeo/bnn/multiplicative_noise.h"

#include <cmath>

#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/gated_affine_transform.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::bnn {

Bijector gated_coupling_flow(int64_t dim, int64_t steps, int64_t hidden) {
  const std::string where = "bnn::gated_coupling_flow";
  check_positive(dim, "dim", where);
  check_positive(steps, "steps", where);
  check_positive(hidden, "hidden", where);
  auto mask = dim == 1 ? torch::zeros({1}) : torch::bernoulli(torch::full({dim}, 0.5));
  std::vector<Bijector> couplings;
  for (int64_t k = 0; k < steps; ++k) {
    auto step_mask = (k % 2 == 0 || dim == 1) ? mask : 1 - mask;
    auto conditioner = nn::MLP(nn::MLPOptions(dim, 2 * dim).hidden({hidden}).activation("tanh"));
    couplings.push_back(MaskedCoupling(step_mask, torch::nn::AnyModule(conditioner),
                                       gated_affine_transform()));
  }
  return Chain(std::move(couplings));
}

MultiplicativeNoiseImpl::MultiplicativeNoiseImpl(int64_t dim,
                                                 const MultiplicativeNoiseOptions& options)
    : dim_(dim) {
  const std::string where = "bnn::MultiplicativeNoise";
  check_positive(dim, "dim", where);
  check_positive(options.flow_steps_q(), "flow_steps_q", where);
  check_positive(options.flow_steps_r(), "flow_steps_r", where);
  check_positive(options.flow_hidden(), "flow_hidden", where);
  if (!(options.initial_variance() > 0) || !std::isfinite(options.initial_variance()))
    throw Error(where + ": option 'initial_variance' must be positive and finite, got " +
                number_string(options.initial_variance()));
  base_mean = register_parameter("base_mean", torch::ones({dim}));
  base_log_variance =
      register_parameter("base_log_variance", torch::full({dim}, std::log(options.initial_variance())));
  const double init_std = std::sqrt(4.0 / static_cast<double>(dim));
  projection = register_parameter("projection", torch::randn({dim}) * init_std);
  r_mean_head = register_parameter("r_mean_head", torch::randn({dim}) * init_std);
  r_log_precision_head = register_parameter("r_log_precision_head", torch::randn({dim}) * init_std);
  flow_q_ = register_module("flow_q", gated_coupling_flow(dim, options.flow_steps_q(),
                                                          options.flow_hidden()).ptr());
  flow_r_ = register_module("flow_r", gated_coupling_flow(dim, options.flow_steps_r(),
                                                          2 * options.flow_hidden()).ptr());
}

torch::Tensor MultiplicativeNoiseImpl::sample(int64_t n) {
  auto eps = torch::randn({n, dim_}, base_mean.options());
  return flow_q_->forward(base_mean + torch::exp(0.5 * base_log_variance) * eps);
}

std::pair<torch::Tensor, torch::Tensor> MultiplicativeNoiseImpl::sample_with_log_q() {
  auto eps = torch::randn({dim_}, base_mean.options());
  auto pushed = flow_q_->forward_and_log_det(base_mean + torch::exp(0.5 * base_log_variance) * eps);
  auto entropy = 0.5 * (std::log(2 * M_PI) + base_log_variance + 1.0).sum();
  return {pushed.output, -entropy - pushed.log_det};
}

torch::Tensor MultiplicativeNoiseImpl::log_r(const torch::Tensor& z,
                                             const torch::Tensor& projections) {
  auto pulled = flow_r_->forward_and_log_det(z);
  auto t = torch::tanh(projections).mean();
  auto mean = r_mean_head * t;
  auto log_precision = r_log_precision_head * t;
  auto log_density = 0.5 * (log_precision - std::log(2 * M_PI) -
                            torch::exp(log_precision) * (pulled.output - mean).square());
  return log_density.sum(-1) + pulled.log_det;
}

}  // namespace diffeo::bnn
