#pragma once
// The inner transform a FlowOptions asks for.

#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/flows/flow_options.h"

namespace diffeo::flows {

/// AffineTransform(log_scale_bound) for transform "affine", the
/// rational-quadratic spline (bins, bound) for "spline".
Transform make_transform(const FlowOptions& options);

}  // namespace diffeo::flows
