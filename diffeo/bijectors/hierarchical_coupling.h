#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/nn/mlp.h"

namespace diffeo {

/// Options of HierarchicalCoupling, TORCH_ARG style:
/// HierarchicalCouplingOptions(8).hidden({64, 64}).context_features(3).
struct HierarchicalCouplingOptions {
  /* implicit */ HierarchicalCouplingOptions(int64_t dim) : dim_(dim) {}
  /// Size d of the vectors (>= 1).
  TORCH_ARG(int64_t, dim);
  /// Hidden widths of the top-level conditioner; each level down halves them,
  /// down to min_hidden.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  TORCH_ARG(int64_t, min_hidden) = 16;
  /// A block of size d splits recursively while d >= 2 * min_split (HINT's
  /// min_split_size, default 2: leaves have 2 or 3 coordinates).
  TORCH_ARG(int64_t, min_split) = 2;
  /// Activation of the conditioners (see nn::MLPOptions).
  TORCH_ARG(std::string, activation) = "relu";
  /// Width of a context every conditioner also sees (0: unconditional).
  TORCH_ARG(int64_t, context_features) = 0;
  /// Soft clamp c of the log-scales: s = c 0.636 atan(r), |s| < 0.999 c (the HINT code's form)
  /// (HINT's clamp, whose tree default is 2).
  TORCH_ARG(double, log_scale_bound) = 2.0;
  /// true: zero last conditioner layers, so the block starts as the identity.
  /// false: random last layers (tests).
  TORCH_ARG(bool, identity_init) = true;
};

/// HINT's recursive affine coupling (Kruse et al., "HINT: Hierarchical
/// Invertible Neural Transport", AAAI 2021).  In the density direction
/// (inverse, data -> base) a vector u of size d is split into u = [u1, u2]
/// with u1 its first k = floor(d/2) coordinates; if d >= 2 * min_split each
/// half first goes through its own HierarchicalCoupling ("upper", "lower";
/// hidden widths halved), then the lower half is coupled to the transformed
/// upper half:
///     v1 = upper^-1(u1),  v2 = lower^-1(u2) * exp(s) + t,
///     (t, r) = MLP([v1, context]),  s = c 0.636 atan(r)  (as in the HINT code).
/// A leaf (d < 2 * min_split) couples [u1, u2] directly; a 1-D leaf has no
/// upper half, so its (t, r) is a learned constant ("shift_log_scale", [2])
/// or, with a context, an MLP of the context alone.  Forward (sampling)
/// undoes the coupling first, then runs the halves' forwards.  Every output
/// coordinate depends only on the input coordinates at or before it (and the
/// context): the Jacobian is lower triangular in both directions, with
/// log|det| = the sum of the log-scales s over every level.  The conditioners
/// draw their initial weights from LibTorch's global generator, as every
/// coupling layer does.  Event rank 1.
class HierarchicalCouplingImpl : public BijectorImpl {
 public:
  explicit HierarchicalCouplingImpl(HierarchicalCouplingOptions options);

  const HierarchicalCouplingOptions& options() const { return options_; }
  /// Number of levels of coupling: 1 for a leaf, 1 + the deeper half's depth.
  int64_t depth() const;

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  /// (shift, log-scale) of the lower half, each [batch..., d - k], from the
  /// base-side upper half v1 [batch..., k] and the context.
  std::pair<torch::Tensor, torch::Tensor> coupling(const torch::Tensor& upper,
                                                   const torch::Tensor& context);
  bool leaf() const { return upper_ == nullptr; }

  HierarchicalCouplingOptions options_;
  int64_t split_;
  nn::MLP conditioner_ = nullptr;                            // null for an unconditional 1-D leaf
  torch::Tensor shift_log_scale_;                            // that leaf's constant (t, r)
  std::shared_ptr<HierarchicalCouplingImpl> upper_, lower_;  // null for a leaf
};
TORCH_MODULE(HierarchicalCoupling);

}  // namespace diffeo
