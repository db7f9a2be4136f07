#pragma once
// One autograd node for a whole neural-spline coupling or MADE layer:
// conditioner network, rational-quadratic spline (spline.h), the pass-through
// columns and the log-det sum, forward and hand-written backward, in a few
// BLAS calls and a loop over the elements instead of ~100 LibTorch operators
// and their autograd records.  Same numbers as the composite path
// (SplineTransform; tests compare them in float64 and check the backward by
// finite differences).  Shares its autograd node with fused_affine.h
// (fused_layer.h).

#include <torch/torch.h>

#include <optional>

#include "diffeo/bijectors/fused_layer.h"
#include "diffeo/bijectors/spline.h"
#include "diffeo/nn/dense_kernels.h"

namespace diffeo {

/// The most bins the fused spline takes (its per-element scratch lives on the
/// stack); SplineTransforms with more take the composite path.
inline constexpr int64_t kFusedSplineMaxBins = 64;

/// theta = conditioner(input) laid out [N, D - split, 3K - 1] per transformed
/// column ([widths K | heights K | interior derivatives K - 1], as
/// SplineTransform reads them; K from the conditioner's output width), then
/// spline::rational_quadratic(x, theta, inverse, options) on those columns.
/// Returns Result{[x's pass-through columns | transformed columns] [N, D],
/// log-det summed over the row [N]}.  Throws diffeo::Error for a width that is
/// not (D - split)(3K - 1), K > kFusedSplineMaxBins or options that do not suit K.
Result fused_spline(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
                    const spline::SplineOptions& options, bool inverse);

/// Whether fused_spline can stand in for `transform` applied with parameters
/// from `conditioner` on `x`: fusion enabled (core/fusion.h), a
/// SplineTransform of at most kFusedSplineMaxBins bins, a kernel activation,
/// 2-D CPU float/double x of the weights' dtype.
bool can_fuse_spline(const Transform& transform, const std::optional<nn::DenseLayers>& conditioner,
                     const torch::Tensor& x);

}  // namespace diffeo
