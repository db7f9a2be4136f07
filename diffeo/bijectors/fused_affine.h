#pragma once
// One autograd node for a whole affine coupling or MADE layer: conditioner
// network, affine transform, the pass-through columns and the log-det sum,
// forward and hand-written backward, in a few BLAS calls and loops instead of
// ~40 LibTorch operators and their autograd records.  Same numbers as the
// composite path (tests compare them in float64 and check the backward by
// finite differences); the composite path stays for everything the kernels
// do not cover.

#include <torch/torch.h>

#include <optional>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/fused_layer.h"
#include "diffeo/nn/dense_kernels.h"

namespace diffeo {

/// theta = conditioner(input) laid out [N, D - split, 2] (shift, raw
/// log-scale) per transformed column, then AffineTransform(bound) on those
/// columns: y = x * exp(s) + shift, or the inverse when `inverse`.  Returns
/// Result{[x's pass-through columns | transformed columns] [N, D], log-det
/// summed over the row [N]}.
Result fused_affine(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
                    double bound, bool inverse);

/// Whether fused_affine can stand in for `transform` applied with parameters
/// from `conditioner` on `x`: fusion enabled (core/fusion.h), an affine
/// transform, a kernel activation, 2-D CPU float/double x of the weights' dtype.
bool can_fuse_affine(const Transform& transform, const std::optional<nn::DenseLayers>& conditioner,
                     const torch::Tensor& x);

}  // namespace diffeo
