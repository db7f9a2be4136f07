#pragma once
// Inverses defined on part of the reals only (Exp: y > 0, Tanh: |y| < 1, ...).

#include <torch/torch.h>

namespace diffeo {

/// Guards the inverse of a bijector whose range is not all of R: entries of y
/// outside the range are replaced by a safe interior value before any maths,
/// so neither the result nor its gradient becomes NaN (the untaken branch of a
/// `where` still runs), and their log-det is set to -inf, so that a flow's
/// log_prob there is -inf: zero density off the support.  The inverse's output
/// at those entries is finite but meaningless.  NaN inputs stay NaN.
class DomainGuard {
 public:
  /// `outside`: a bool mask of y's shape, true where y is out of the range.
  DomainGuard(const torch::Tensor& y, torch::Tensor outside, const torch::Scalar& safe);
  DomainGuard(const torch::Tensor& y, torch::Tensor outside, const torch::Tensor& safe);

  /// y with the outside entries replaced.
  const torch::Tensor& value() const { return value_; }
  /// `log_det` with -inf at the outside entries.
  torch::Tensor log_det(const torch::Tensor& log_det) const;

 private:
  torch::Tensor outside_;
  torch::Tensor value_;
};

}  // namespace diffeo
