#pragma once

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Glow for vectors (Kingma & Dhariwal 2018): `layers` (default 8) steps of
/// ActNorm -> LULinear (a learned invertible linear map, Glow's 1x1
/// convolution; each step seeded from `seed`) -> affine coupling of one half
/// on the other (MLP conditioner: `hidden`, `activation`, `context_features`;
/// soft-clamped `log_scale_bound`).  ActNorm initialises itself on the first
/// training batch.  Needs dim >= 2.  With options.image_shape set it builds
/// the multi-scale image Glow instead (multiscale_glow_bijector).
Bijector glow_bijector(const FlowOptions& options);
/// The Glow flow on a standard normal base.
Flow Glow(const FlowOptions& options);

}  // namespace diffeo::flows
