#include "diffeo/flows/transforms.h"

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/spline_transform.h"

namespace diffeo::flows {

Transform make_transform(const FlowOptions& options) {
  if (options.transform() == "affine") return affine_transform(options.log_scale_bound());
  spline::SplineOptions spline;
  spline.bound = options.bound();
  return spline_transform(options.bins(), spline);
}

}  // namespace diffeo::flows
