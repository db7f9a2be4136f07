#pragma once

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Masked autoregressive flow (Papamakarios et al. 2017): `layers` (default 10)
/// MaskedAutoregressive layers with MADE conditioners (`hidden`, `activation`,
/// `context_features`), each an affine (soft-clamped, `log_scale_bound`) or a
/// rational-quadratic spline (`bins`, `bound`) transform per `transform`, the
/// autoregressive order reversed between layers.  Density: one pass per
/// layer; sampling: one incremental pass per layer from D = 8 on (CPU, no
/// gradients), else D passes per layer.
Bijector maf_bijector(const FlowOptions& options);
/// The MAF flow on a standard normal base.
Flow MAF(const FlowOptions& options);

}  // namespace diffeo::flows
