#include "diffeo/bnn/point_layer.h"

#include <cmath>

#include "diffeo/bnn/gaussian_weights.h"
#include "diffeo/core/checks.h"

namespace diffeo::bnn {

PointLayerImpl::PointLayerImpl(const LayerGeometry& geometry, const LayerOptions& options)
    : BayesianLayerImpl(geometry), prior_variance_(options.prior_variance()) {
  check_layer_options(options, "bnn::PointLayer");
  const double init_std = std::sqrt(4.0 / static_cast<double>(geometry.fan_in() + geometry.out));
  weight = register_parameter("weight", torch::randn(geometry.weight_shape()) * init_std);
  bias = register_parameter("bias", torch::zeros({geometry.out}));
}

torch::Tensor PointLayerImpl::forward(const torch::Tensor& x) {
  geometry().check_input(x, "bnn::PointLayer::forward");
  check_matches_module(x, "x", *this, "bnn::PointLayer::forward");
  return geometry().apply(x, weight, bias);
}

torch::Tensor PointLayerImpl::kl() {
  return 0.5 * (weight.square().sum() + bias.square().sum()) / prior_variance_;
}

}  // namespace diffeo::bnn
