#include "diffeo/bnn/network.h"

#include "diffeo/bnn/mean_field_layer.h"
#include "diffeo/bnn/mnf_layer.h"
#include "diffeo/bnn/point_layer.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::bnn {

Posterior parse_posterior(const std::string& name) {
  if (name == "point") return Posterior::kPoint;
  if (name == "mean_field") return Posterior::kMeanField;
  if (name == "mnf") return Posterior::kMNF;
  throw Error("bnn::parse_posterior: unknown posterior '" + name +
              "'; expected one of point, mean_field, mnf");
}

std::string posterior_name(Posterior posterior) {
  switch (posterior) {
    case Posterior::kPoint:
      return "point";
    case Posterior::kMeanField:
      return "mean_field";
    case Posterior::kMNF:
      return "mnf";
  }
  throw Error("bnn::posterior_name: invalid Posterior value");
}

BayesianLayer make_layer(const LayerGeometry& geometry, const NetworkOptions& options) {
  switch (options.posterior()) {
    case Posterior::kPoint:
      return PointLayer(geometry, options.weights());
    case Posterior::kMeanField:
      return MeanFieldLayer(geometry, options.weights());
    case Posterior::kMNF:
      return MNFLayer(geometry, MNFOptions().weights(options.weights()).noise(options.noise()));
  }
  throw Error("bnn::make_layer: invalid Posterior value");
}

BayesianNetImpl::BayesianNetImpl(torch::nn::Sequential body) : body_(std::move(body)) {
  if (layers().empty()) throw Error("bnn::BayesianNet: argument 'body' holds no Bayesian layer");
  register_module("body", body_);
}

torch::Tensor BayesianNetImpl::forward(const torch::Tensor& x) { return body_->forward(x); }

torch::Tensor BayesianNetImpl::kl() {
  torch::Tensor total;
  for (auto& layer : layers()) total = total.defined() ? total + layer->kl() : layer->kl();
  return total;
}

std::vector<BayesianLayer> BayesianNetImpl::layers() const {
  std::vector<BayesianLayer> found;
  for (const auto& child : body_->children())
    if (auto layer = std::dynamic_pointer_cast<BayesianLayerImpl>(child))
      found.push_back(BayesianLayer(torch::nn::ModuleHolder<BayesianLayerImpl>(layer)));
  return found;
}

static torch::nn::Functional activation(const std::string& name) {
  return torch::nn::Functional([name](const torch::Tensor& x) { return nn::activate(name, x); });
}

BayesianNet mlp(const std::vector<int64_t>& sizes, const NetworkOptions& options) {
  const std::string where = "bnn::mlp";
  if (sizes.size() < 2)
    throw Error(where + ": argument 'sizes' needs at least the input and output sizes, got " +
                std::to_string(sizes.size()) + " sizes");
  for (auto s : sizes) check_positive(s, "sizes", where);
  nn::check_activation(options.activation(), where);
  torch::nn::Sequential body;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    body->push_back(make_layer(LayerGeometry::dense(sizes[i], sizes[i + 1]), options).ptr());
    if (i + 2 < sizes.size()) body->push_back(activation(options.activation()));
  }
  return BayesianNet(body);
}

BayesianNet lenet5(const std::vector<int64_t>& image_shape, int64_t classes,
                   const NetworkOptions& options) {
  const std::string where = "bnn::lenet5";
  if (image_shape.size() != 3 || image_shape[0] < 1 || image_shape[1] < 16 || image_shape[2] < 16)
    throw Error(where + ": argument 'image_shape' must be [channels, height, width] with height "
                "and width >= 16, got " + shape_string(image_shape));
  check_positive(classes, "classes", where);
  nn::check_activation(options.activation(), where);
  // Two valid 5x5 convolutions, each followed by a 2x2 max-pool.
  const int64_t h = ((image_shape[1] - 4) / 2 - 4) / 2, w = ((image_shape[2] - 4) / 2 - 4) / 2;
  auto pool = [] { return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)); };
  torch::nn::Sequential body;
  body->push_back(make_layer(LayerGeometry::conv2d(image_shape[0], 20, 5), options).ptr());
  body->push_back(pool());
  body->push_back(activation(options.activation()));
  body->push_back(make_layer(LayerGeometry::conv2d(20, 50, 5), options).ptr());
  body->push_back(pool());
  body->push_back(activation(options.activation()));
  body->push_back(torch::nn::Flatten());
  body->push_back(make_layer(LayerGeometry::dense(50 * h * w, 500), options).ptr());
  body->push_back(activation(options.activation()));
  body->push_back(make_layer(LayerGeometry::dense(500, classes), options).ptr());
  return BayesianNet(body);
}

}  // namespace diffeo::bnn
