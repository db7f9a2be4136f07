#pragma once
// A MADE run in its autoregressive order: the inputs are fixed one feature at
// a time, and every hidden unit is computed once, as soon as the inputs it
// sees are all fixed.  This is how a MAF samples in about one network pass
// instead of D.

#include <torch/torch.h>

#include <functional>

#include "diffeo/nn/made.h"

namespace diffeo::nn {

/// Called once per feature, in the autoregressive order: `feature` is the
/// feature's index in [0, D) and `params` [N, P] are its final MADE outputs
/// (MADE(y)[:, feature, :], which depend only on the features fixed before).
/// Returns that feature's input value y[:, feature] for every row ([N] or [N, 1]).
using FeatureStep = std::function<torch::Tensor(int64_t feature, const torch::Tensor& params)>;

/// Whether made_autoregressive_pass can run `made` for x [batch..., D] and
/// `context`: fused kernels on (core/fusion.h), an activation with a kernel
/// (dense_kernels.h), CPU float or double tensors of the weights' dtype, and
/// nothing to differentiate (grad mode off, or no input or parameter that
/// requires grad).  Otherwise the caller takes its D-pass path.
bool made_autoregressive_pass_applies(const MADEImpl& made, const torch::Tensor& x,
                                      const torch::Tensor& context);

/// Fixes the MADE's input y [N, D] feature by feature (N = the rows of x
/// [batch..., D], which gives the shape and dtype; its values are not read):
/// `step` gets each feature's parameters and returns its value, which the
/// pass then feeds forward.  Hidden units sorted by degree make each degree's
/// units one contiguous block, so the cost is about one MADE pass plus D small
/// updates.  The context is as MADE::forward takes it.  Throws diffeo::Error
/// for x of another width or where made_autoregressive_pass_applies is false.
void made_autoregressive_pass(const MADEImpl& made, const torch::Tensor& x,
                              const torch::Tensor& context, const FeatureStep& step);

}  // namespace diffeo::nn
