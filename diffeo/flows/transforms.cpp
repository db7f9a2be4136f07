#include "diffeo/flows/transforms.h"

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/bernstein_transform.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/core/error.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::flows {

Bijector split_coupling(const FlowOptions& options, const Transform& transform) {
  const int64_t D = options.dim(), split = D / 2;
  auto conditioner =
      nn::MLP(nn::MLPOptions(split, (D - split) * transform->parameters_per_feature())
                  .hidden(options.hidden())
                  .activation(options.activation())
                  .context_features(options.context_features()));
  return SplitCoupling(D, split, torch::nn::AnyModule(conditioner), transform);
}

Transform make_transform(const FlowOptions& options) {
  if (options.transform() == "affine") return affine_transform(options.log_scale_bound());
  if (options.transform() == "bernstein") {
    // Bounded like the spline (identity outside [-bound, bound]): zuko's BPF.
    bernstein::BernsteinOptions bernstein;
    bernstein.bound = options.bound();
    return bernstein_transform(options.order(), bernstein);
  }
  if (options.transform() != "spline")
    throw Error("make_transform: argument 'transform' is '" + options.transform() +
                "'; the transforms are affine, spline and bernstein");
  spline::SplineOptions spline;
  spline.bound = options.bound();
  return spline_transform(options.bins(), spline);
}

}  // namespace diffeo::flows
