#pragma once
// Small tensor helpers shared by bijectors and distributions.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

namespace diffeo {

/// Sums the last `n` dimensions of `t` (returns `t` itself for n == 0).
torch::Tensor sum_rightmost(const torch::Tensor& t, int64_t n);

/// zeros(shape, options) + terms[0] + terms[1] + ..., summed in that order.
/// Where every term has that shape and dtype, contiguous on the CPU, this is
/// one autograd node whose backward hands each term the incoming gradient (a
/// chain of n layers' log-dets: one node instead of n additions); otherwise
/// the terms broadcast into the shape as with +.
torch::Tensor sum_terms(const std::vector<torch::Tensor>& terms, torch::IntArrayRef shape,
                        const torch::TensorOptions& options);

/// Whether every value of the floating-point tensor `t` is finite.  A
/// contiguous CPU float/double tensor is read in one plain pass, with no
/// temporaries: the check runs on every log_prob, where ATen's
/// isfinite(t).all() costs several small ops.
bool all_finite(const torch::Tensor& t);

/// The context [batch..., features] of a network built for `features`
/// context features, expanded to the batch shape of `x` (x's shape without its
/// last `x_event_rank` dimensions), ready to concatenate to the network's
/// input.  Throws diffeo::Error (naming `where`) for a missing context, one
/// that is not floating point or not on x's dtype and device, a wrong width,
/// or batch shapes that do not broadcast (see check_context_tensor and
/// check_context_batch).
torch::Tensor expand_context_to(const torch::Tensor& context, const torch::Tensor& x,
                                int64_t x_event_rank, int64_t features, const std::string& where);

/// An index buffer as int64 on `like`'s device.  LibTorch's Module::to(dtype)
/// casts integer buffers too, so stored indices may have become floating
/// point; the conversion is free when they are still int64 there.
torch::Tensor as_index(const torch::Tensor& indices, const torch::Tensor& like);

/// Registers `value` on `module` as a trainable parameter or as a fixed buffer,
/// so that fixed values still follow .to(dtype/device) and are saved with it.
/// The module holds a copy: the caller's tensor is neither aliased nor changed.
torch::Tensor register_value(torch::nn::Module& module, const std::string& name,
                             torch::Tensor value, bool learnable);

/// Rows per block when sampling or evaluating in chunks: enough to keep the
/// per-call overhead small, few enough that a million rows never build one
/// giant graph or temporary.
inline constexpr int64_t kChunkRows = 100000;

/// Calls `block(start, rows)` on consecutive blocks of at most `chunk` rows
/// covering [0, n) and stacks the results along dimension 0 into one tensor
/// with the first block's dtype and device.  n == 0 calls `block(0, 0)` once
/// and returns its (empty) result.  Throws diffeo::Error for n < 0 or a chunk
/// that is not positive.
torch::Tensor in_chunks(int64_t n, int64_t chunk,
                        const std::function<torch::Tensor(int64_t start, int64_t rows)>& block);

}  // namespace diffeo
