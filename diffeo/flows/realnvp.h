#pragma once

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Real NVP (Dinh et al. 2017): `layers` (default 8) coupling layers, each
/// transforming half of the coordinates (affine, soft-clamped log-scale, or a
/// spline per `transform`) conditioned by an MLP (`hidden`, `activation`,
/// `context_features`) on the other half; the halves swap between layers.
/// Needs dim >= 2.  One pass in both directions.
Bijector realnvp_bijector(const FlowOptions& options);
/// The Real NVP flow on a standard normal base.
Flow RealNVP(const FlowOptions& options);

}  // namespace diffeo::flows
