#include "diffeo/flows/flow_options.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::flows {

json to_json(const FlowOptions& o) {
  return {{"dim", o.dim()},
          {"layers", o.layers()},
          {"hidden", o.hidden()},
          {"activation", o.activation()},
          {"context_features", o.context_features()},
          {"transform", o.transform()},
          {"order", o.order()},
          {"squash", o.squash()},
          {"bins", o.bins()},
          {"bound", o.bound()},
          {"log_scale_bound", o.log_scale_bound()},
          {"variant", o.variant()},
          {"image_shape", o.image_shape()},
          {"levels", o.levels()},
          {"seed", o.seed()}};
}

FlowOptions options_from_json(const json& object) {
  SpecReader r(object, "flow options");
  FlowOptions o(r.require<int64_t>("dim"));
  o.layers(r.get("layers", o.layers()))
      .hidden(r.get("hidden", o.hidden()))
      .activation(r.get("activation", o.activation()))
      .context_features(r.get("context_features", o.context_features()))
      .transform(r.get("transform", o.transform()))
      .order(r.get("order", o.order()))
      .squash(r.get("squash", o.squash()))
      .bins(r.get("bins", o.bins()))
      .bound(r.get("bound", o.bound()))
      .log_scale_bound(r.get("log_scale_bound", o.log_scale_bound()))
      .variant(r.get("variant", o.variant()))
      .image_shape(r.get("image_shape", o.image_shape()))
      .levels(r.get("levels", o.levels()))
      .seed(r.get("seed", o.seed()));
  r.finish();
  return o;
}

void check_options(const FlowOptions& o, const std::string& where) {
  check_positive(o.dim(), "dim", where);
  if (o.layers() < 0)
    throw Error(where + ": argument 'layers' must be >= 0 (0: default), got " +
                std::to_string(o.layers()));
  if (o.hidden().empty()) throw Error(where + ": argument 'hidden' must list at least one width");
  for (auto width : o.hidden()) check_positive(width, "hidden", where);
  nn::check_activation(o.activation(), where);
  if (o.context_features() < 0)
    throw Error(where + ": argument 'context_features' must be >= 0, got " +
                std::to_string(o.context_features()));
  if (o.transform() != "affine" && o.transform() != "spline" && o.transform() != "bernstein")
    throw Error(where + ": argument 'transform' is '" + o.transform() +
                "'; expected 'affine', 'spline' or 'bernstein'");
  if (o.squash() != "none" && o.squash() != "sigmoid")
    throw Error(where + ": argument 'squash' is '" + o.squash() +
                "'; expected 'none' or 'sigmoid'");
  if (o.order() < 4 || o.order() > 200)
    throw Error(where + ": argument 'order' must be in [4, 200], got " + std::to_string(o.order()));
  check_positive(o.bins(), "bins", where);
  if (o.bins() >= 1000)  // each bin keeps >= 1/1000 of the width (SplineOptions)
    throw Error(where + ": argument 'bins' must be below 1000, got " + std::to_string(o.bins()));
  if (!(o.bound() > 0) || !std::isfinite(o.bound()))
    throw Error(where + ": argument 'bound' must be positive and finite, got " +
                number_string(o.bound()));
  if (!(o.log_scale_bound() > 0) || !std::isfinite(o.log_scale_bound()))
    throw Error(where + ": argument 'log_scale_bound' must be positive and finite, got " +
                number_string(o.log_scale_bound()));
  if (!o.image_shape().empty()) {
    for (auto n : o.image_shape()) check_positive(n, "image_shape", where);
    int64_t size = 1;
    for (auto n : o.image_shape()) size *= n;
    if (o.image_shape().size() != 3 || size != o.dim())
      throw Error(where + ": argument 'image_shape' must be [C, H, W] with C * H * W == dim " +
                  std::to_string(o.dim()) + ", got " + shape_string(o.image_shape()));
  }
  if (o.levels() < 0)
    throw Error(where + ": argument 'levels' must be >= 0 (0: default), got " +
                std::to_string(o.levels()));
  if (o.variant() != "coupling" && o.variant() != "autoregressive")
    throw Error(where + ": argument 'variant' is '" + o.variant() +
                "'; expected 'coupling' or 'autoregressive'");
}

}  // namespace diffeo::flows
