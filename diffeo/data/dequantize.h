#pragma once
// Preprocessing of discrete images for density models: uniform dequantisation,
// the bits-per-dimension score and downsampling.

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>

namespace diffeo::data {

/// Uniform dequantisation: integer pixel values x in {0, ..., levels - 1}
/// (any integer dtype, any shape) -> v = (x + u) / levels in the default
/// floating dtype, with u ~ U[0, 1) drawn from `generator` (a generator for
/// the pixels' device; a CPU generator for CPU tensors).  Each v lies in
/// [x / levels, (x + 1) / levels) exactly, also after rounding to the dtype,
/// so the data fill the unit cube [0, 1)^D.  Throws diffeo::Error for an
/// undefined, floating-point or bool tensor, levels < 2, and values outside
/// 0..levels-1 (with their count and range).
torch::Tensor dequantize(const torch::Tensor& pixels, at::Generator generator,
                         int64_t levels = 256);

/// Bits per dimension of discrete `levels`-level data from the mean log
/// density (nats) that a model of the dequantised data on the unit cube
/// [0, 1]^dim (dequantize's output) assigns to it:
///
///   bits/dim = (-mean_log_prob_unit + dim * log(levels)) / (dim * log(2)).
///
/// Derivation: y = x + u = levels * v lies in [0, levels)^D with density
/// p_y(y) = p_unit(y / levels) / levels^D.  The discrete model
/// P(x) = integral over [0, 1)^D of p_y(x + u) du is at least
/// exp(E_u log p_y(x + u)) by Jensen's inequality, so the value returned is an
/// upper bound on -log2 P(x) / D averaged over the data: the usual
/// bits-per-dimension score of uniformly dequantised flows.  The uniform
/// model on the cube (log density 0) gives exactly log2(levels), 8 for 256
/// levels.  Throws diffeo::Error for dim < 1, levels < 2 and a NaN mean;
/// -inf gives +inf.
double bits_per_dim(double mean_log_prob_unit, int64_t dim, int64_t levels = 256);

/// Average pooling of images [..., H, W] (e.g. [N, C, H, W]) over
/// factor x factor blocks -> [..., H / factor, W / factor], in the input's
/// dtype: floating images give the block mean, integer ones (uint8) the block
/// mean rounded to the nearest integer, halves up.  Throws diffeo::Error for
/// an undefined or bool tensor, fewer than 2 dimensions, factor < 1, and a
/// factor that does not divide H and W.
torch::Tensor downsample_images(const torch::Tensor& images, int64_t factor);

}  // namespace diffeo::data
