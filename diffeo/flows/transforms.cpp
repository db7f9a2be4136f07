#include "diffeo/flows/transforms.h"

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/core/error.h"

namespace diffeo::flows {

Transform make_transform(const FlowOptions& options) {
  if (options.transform() == "affine") return affine_transform(options.log_scale_bound());
  throw Error("transform '" + options.transform() + "' is not available yet");
}

}  // namespace diffeo::flows
