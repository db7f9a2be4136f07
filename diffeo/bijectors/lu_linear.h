#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Options of LULinear: the vector size, the initialisation and its seed.
struct LULinearOptions {
  /* implicit */ LULinearOptions(int64_t dim) : dim_(dim) {}
  /// Size of the vectors (>= 1).
  TORCH_ARG(int64_t, dim);
  /// true: W = I (P = I, L = I, U = I).  false: W is a random orthogonal matrix.
  TORCH_ARG(bool, identity_init) = false;
  /// Seeds the random orthogonal matrix, and so the fixed permutation P.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Adds a learnable bias b (initially 0).
  TORCH_ARG(bool, bias) = true;
};

/// An invertible linear map of vectors (Glow's invertible 1x1 convolution,
/// Kingma & Dhariwal 2018, for event rank 1) in LU form: y = W x + b with
/// W = P L (U + diag(sign * exp(log_diag))), P a fixed permutation, L unit lower
/// triangular, U strictly upper triangular, `sign` fixed at +-1.  Forward
/// log-det = sum(log_diag); the inverse is two triangular solves, O(dim^2) per
/// vector, never an explicit inverse of W.  The random initialisation is the
/// pivoted LU decomposition of a random orthogonal matrix drawn from `seed`, so
/// the same seed gives the same W (log-det 0) on every machine.
class LULinearImpl : public BijectorImpl {
 public:
  explicit LULinearImpl(LULinearOptions options);

  /// The assembled matrix W = P L (U + diag(sign * exp(log_diag))), [dim, dim].
  torch::Tensor weight() const;
  /// The bias b, [dim]; undefined when the options have bias(false).
  torch::Tensor bias() const { return bias_; }
  /// The log-|diagonal| of the upper factor, [dim]; its sum is the log-det.
  torch::Tensor log_diag() const { return log_diag_; }
  /// The permutation P as indices: (P v)[i] = v[permutation[i]].
  torch::Tensor permutation() const { return permutation_; }
  const LULinearOptions& options() const { return options_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  torch::Tensor unit_lower() const;
  torch::Tensor upper_with_diagonal() const;

  LULinearOptions options_;
  torch::Tensor lower_;  // only the strictly lower part is used
  torch::Tensor upper_;  // only the strictly upper part is used
  torch::Tensor log_diag_;
  torch::Tensor sign_;
  torch::Tensor permutation_;
  torch::Tensor inverse_permutation_;
  torch::Tensor bias_;
};
TORCH_MODULE(LULinear);

}  // namespace diffeo
