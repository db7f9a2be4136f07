#pragma once

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Neural spline flow (Durkan et al. 2019): `layers` (default 4) layers of
/// rational-quadratic splines (`bins` K, on [-`bound`, `bound`], identity
/// outside).  variant "coupling": spline couplings on alternating halves with
/// MLP conditioners (RQ-NSF (C), needs dim >= 2); "autoregressive": MADE
/// conditioners (RQ-NSF (AR)).  `hidden`, `activation`, `context_features` as
/// for the other builders; `transform` is ignored (always "spline").
Bijector nsf_bijector(const FlowOptions& options);
/// The NSF flow on a standard normal base.
Flow NSF(const FlowOptions& options);

}  // namespace diffeo::flows
