#include "diffeo/bnn/gaussian_weights.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bnn {

torch::Tensor gaussian_kl(const torch::Tensor& mean, const torch::Tensor& std,
                          double prior_variance) {
  auto variance = std.square();
  return 0.5 * (std::log(prior_variance) - torch::log(variance) +
                (variance + mean.square()) / prior_variance - 1.0)
                   .sum();
}

torch::Tensor sample_local(const torch::Tensor& mean, const torch::Tensor& variance) {
  return mean + torch::sqrt(variance) * torch::randn_like(mean);
}

void check_layer_options(const LayerOptions& options, const std::string& where) {
  if (!(options.prior_variance() > 0) || !std::isfinite(options.prior_variance()))
    throw Error(where + ": option 'prior_variance' must be positive and finite, got " +
                number_string(options.prior_variance()));
  if (!(options.max_std() > 0) || !std::isfinite(options.max_std()))
    throw Error(where + ": option 'max_std' must be positive and finite, got " +
                number_string(options.max_std()));
  if (!std::isfinite(options.initial_log_std()))
    throw Error(where + ": option 'initial_log_std' must be finite, got " +
                number_string(options.initial_log_std()));
}

GaussianWeightsImpl::GaussianWeightsImpl(const LayerGeometry& geometry,
                                         const LayerOptions& options)
    : geometry_(geometry), options_(options) {
  check_layer_options(options, "bnn::GaussianWeights");
  const auto shape = geometry.weight_shape();
  const double init_std = std::sqrt(4.0 / static_cast<double>(geometry.fan_in() + geometry.out));
  weight_mean = register_parameter("weight_mean", torch::randn(shape) * init_std);
  weight_log_std =
      register_parameter("weight_log_std", torch::full(shape, options.initial_log_std()));
  bias_mean = register_parameter("bias_mean", torch::zeros({geometry.out}));
  bias_log_std =
      register_parameter("bias_log_std", torch::full({geometry.out}, options.initial_log_std()));
}

torch::Tensor GaussianWeightsImpl::weight_std() const {
  return torch::exp(weight_log_std).clamp_max(options_.max_std());
}

torch::Tensor GaussianWeightsImpl::bias_std() const {
  return torch::exp(bias_log_std).clamp_max(options_.max_std());
}

std::pair<torch::Tensor, torch::Tensor> GaussianWeightsImpl::moments(
    const torch::Tensor& x, const torch::Tensor& input_scale,
    const torch::Tensor& output_scale) const {
  const auto scaled_x = input_scale.defined() ? x * input_scale : x;
  torch::Tensor mean;
  if (output_scale.defined()) {
    auto weight_term = geometry_.apply(scaled_x, weight_mean, {});
    auto scale = geometry_.is_conv() ? output_scale.unsqueeze(-1).unsqueeze(-1) : output_scale;
    auto bias = geometry_.is_conv() ? bias_mean.view({-1, 1, 1}) : bias_mean;
    mean = weight_term * scale + bias;
  } else {
    mean = geometry_.apply(scaled_x, weight_mean, bias_mean);
  }
  auto variance = geometry_.apply(x.square(), weight_std().square(), bias_std().square());
  return {mean, variance};
}

torch::Tensor GaussianWeightsImpl::kl(const torch::Tensor& mean_of_weights) const {
  const auto& m = mean_of_weights.defined() ? mean_of_weights : weight_mean;
  const bool capped = options_.cap_std_in_kl();
  return gaussian_kl(m, capped ? weight_std() : torch::exp(weight_log_std),
                     options_.prior_variance()) +
         gaussian_kl(bias_mean, capped ? bias_std() : torch::exp(bias_log_std),
                     options_.prior_variance());
}

}  // namespace diffeo::bnn
