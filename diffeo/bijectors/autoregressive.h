#pragma once
// Masked autoregressive flow layer (Papamakarios et al. 2017).

#include <optional>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/nn/made.h"

namespace diffeo {

/// One MAF layer: y_i = t(x_i; theta_i(y_<i, context)) with theta from a MADE
/// network fed the DATA-side vector y.  The inverse (density direction) is one
/// parallel pass, x = t^-1(y; MADE(y)); the forward (sampling) direction fixes
/// y one coordinate at a time: for D >= kIncrementalFeatures on CPU without
/// gradients in one incremental MADE pass (nn/made_sampler.h), else in D
/// sequential passes.
/// Inverse(MaskedAutoregressive) is an IAF: fast sampling, slow density.  The
/// MADE's outputs_per_feature must equal the transform's P.  Event rank 1.
class MaskedAutoregressiveImpl : public BijectorImpl {
 public:
  MaskedAutoregressiveImpl(nn::MADE made, Transform transform);

  const nn::MADE& made() const { return made_; }
  const Transform& transform() const { return transform_; }

  /// From this many features on, forward takes the incremental pass where it
  /// applies.  It costs about six BLAS passes of the MADE (its updates are
  /// axpys, not blocked products: sampling 1e6 2-D points took 4.7 s against
  /// 1.5 s in two passes), so below this the D passes are faster.
  static constexpr int64_t kIncrementalFeatures = 8;

  /// The forward direction by one incremental MADE pass, whatever D; needs
  /// nn::made_autoregressive_pass_applies (else diffeo::Error).  forward uses
  /// it from kIncrementalFeatures on; the tests compare it with the D passes.
  Result incremental_forward(const torch::Tensor& x, const torch::Tensor& context = {});

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  std::optional<Result> fused(const torch::Tensor& net_input, const torch::Tensor& target,
                              bool inverse);
  nn::MADE made_;
  Transform transform_;
};
TORCH_MODULE(MaskedAutoregressive);

}  // namespace diffeo
