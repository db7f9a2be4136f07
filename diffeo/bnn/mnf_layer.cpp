#include "diffeo/bnn/mnf_layer.h"

#include "diffeo/core/checks.h"

namespace diffeo::bnn {

MNFLayerImpl::MNFLayerImpl(const LayerGeometry& geometry, const MNFOptions& options)
    : BayesianLayerImpl(geometry) {
  weights_ = register_module("weights", GaussianWeights(geometry, options.weights()));
  noise_ = register_module(
      "noise", MultiplicativeNoise(geometry.is_conv() ? geometry.out : geometry.in, options.noise()));
}

std::vector<int64_t> MNFLayerImpl::z_shape() const {
  if (geometry().is_conv()) return {geometry().out, 1};
  return {1, geometry().in};
}

torch::Tensor MNFLayerImpl::forward(const torch::Tensor& x) {
  geometry().check_input(x, "bnn::MNFLayer::forward");
  check_matches_module(x, "x", *weights_, "bnn::MNFLayer::forward");
  auto z = noise_->sample(x.size(0));
  // W | z ~ N(z-scaled means, sd^2): z scales the means only, never the variances.
  auto [mean, variance] = geometry().is_conv() ? weights_->moments(x, {}, z)
                                               : weights_->moments(x, z);
  return sample_local(mean, variance);
}

torch::Tensor MNFLayerImpl::kl() {
  auto [z, log_q] = noise_->sample_with_log_q();
  const auto out = geometry().out;
  const auto shape = z_shape();
  const int64_t z_axis = geometry().is_conv() ? 0 : 1;
  auto scaled_mean = weights_->weight_mean.view({out, -1}) * z.view(shape);
  auto c = noise_->projection.view(shape);
  // a = c^T W contracted over z's axis, W ~ q(W | z): Gaussian, drawn once.
  auto a_mean = (scaled_mean * c).sum(z_axis);
  auto a_variance = (weights_->weight_std().square().view({out, -1}) * c.square()).sum(z_axis);
  auto projections = sample_local(a_mean, a_variance);
  return weights_->kl(scaled_mean.view(weights_->weight_mean.sizes())) + log_q -
         noise_->log_r(z, projections);
}

}  // namespace diffeo::bnn
