#pragma once
// Maximum mean discrepancy (MMD) between two samples with a sum of inverse
// multiquadric kernels: the metric of HINT's Fourier-curve benchmark, which
// compares a model's posterior samples with a reference (ABC) sample.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace diffeo::train {

/// One term of a kernel on R^d, k(x, y) = (exponent * c / (c + |x - y|^2))^exponent
/// with c > 0 and exponent > 0: the inverse multiquadric c / (c + r^2) of squared
/// width c for exponent 1, and k(x, x) = exponent^exponent.  The HINT
/// evaluation code writes it c^a ((c + r^2) / a)^-a.
struct InverseMultiquadric {
  double c;
  double exponent = 1.0;
};

/// The kernel of the HINT paper's evaluation (VLL-HD/HINT, evaluate.py), the sum
/// of the terms (c, exponent) = (0.5, 1), (0.2, 1), (0.2, 0.5).
std::vector<InverseMultiquadric> hint_kernel();

/// Which estimate of MMD^2 mmd_squared returns, with K_ab the mean of k over all
/// pairs (one row of a, one row of b):
/// kBiased:   K_aa + K_bb - 2 K_ab, self-pairs included (the V-statistic; HINT's
///            evaluation, always >= 0 for a positive definite kernel);
/// kUnbiased: as kBiased, but K_aa and K_bb average over pairs of distinct rows
///            only (the U-statistic; its mean is MMD^2, so it scatters around 0,
///            negative values included, when a and b come from one distribution).
enum class MmdEstimate { kBiased, kUnbiased };

/// Options of mmd_squared, TORCH_ARG style.
struct MmdOptions {
  /// The kernel: the sum of these terms (at least one).
  TORCH_ARG(std::vector<InverseMultiquadric>, kernel) = hint_kernel();
  TORCH_ARG(MmdEstimate, estimate) = MmdEstimate::kBiased;
  /// Rows per block of the kernel matrices: memory is O(chunk * rows), never
  /// O(rows^2); the result does not depend on it beyond rounding.
  TORCH_ARG(int64_t, chunk) = 256;
};

/// MMD^2 between the samples a [n, d] and b [m, d] (any floating dtype; b is
/// moved to a's device), computed and accumulated in float64 under
/// c10::InferenceMode.  Squared distances use |x|^2 + |y|^2 - 2 x.y on the rows
/// centred at a's mean (clamped at 0, exactly 0 for a row and itself).  NaN in
/// the input gives NaN.  Throws diffeo::Error for non-floating or non-matrix
/// input, different d, an empty sample, fewer than 2 rows in either sample for
/// kUnbiased, an empty kernel, a term with c or exponent not finite and > 0, or
/// chunk <= 0.
double mmd_squared(const torch::Tensor& a, const torch::Tensor& b,
                   const MmdOptions& options = MmdOptions());

}  // namespace diffeo::train
