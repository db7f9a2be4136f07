#pragma once
// The inner transform a FlowOptions asks for.

#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/flows/flow_options.h"

namespace diffeo::flows {

/// AffineTransform(log_scale_bound) for transform "affine", the
/// rational-quadratic spline (bins, bound) for "spline".
Transform make_transform(const FlowOptions& options);

/// A SplitCoupling of the last dim - dim/2 features on the first dim/2, with
/// an MLP conditioner (hidden, activation, context_features): the coupling
/// layer of Real NVP, NSF and Glow.
Bijector split_coupling(const FlowOptions& options, const Transform& transform);

}  // namespace diffeo::flows
