#include "diffeo/bnn/mean_field_layer.h"

#include "diffeo/core/checks.h"

namespace diffeo::bnn {

MeanFieldLayerImpl::MeanFieldLayerImpl(const LayerGeometry& geometry, const LayerOptions& options)
    : BayesianLayerImpl(geometry) {
  weights_ = register_module("weights", GaussianWeights(geometry, options));
}

torch::Tensor MeanFieldLayerImpl::forward(const torch::Tensor& x) {
  geometry().check_input(x, "bnn::MeanFieldLayer::forward");
  check_matches_module(x, "x", *weights_, "bnn::MeanFieldLayer::forward");
  auto [mean, variance] = weights_->moments(x);
  return sample_local(mean, variance);
}

torch::Tensor MeanFieldLayerImpl::kl() { return weights_->kl(); }

}  // namespace diffeo::bnn
