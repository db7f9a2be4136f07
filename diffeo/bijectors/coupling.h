#pragma once
// Coupling layers (Dinh et al. 2015, 2017): half the coordinates pass through
// unchanged and parametrise an elementwise transform of the other half, so
// both directions take one pass and the Jacobian is triangular.

#include <torch/torch.h>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// Coupling by a binary mask over D features: coordinates with mask 1 pass
/// through and are the conditioner's input (the others zeroed); coordinates
/// with mask 0 are transformed, y_i = t(x_i; theta_i), with theta =
/// conditioner(x * mask, context) reshaped to [batch..., D, P].  The
/// conditioner is any module with forward(x, context) -> [batch..., D * P]
/// (e.g. nn::MLP(MLPOptions(D, D * P))).  Event rank 1.
class MaskedCouplingImpl : public BijectorImpl {
 public:
  MaskedCouplingImpl(torch::Tensor mask, torch::nn::AnyModule conditioner, Transform transform);

  const Transform& transform() const { return transform_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result couple(const torch::Tensor& input, const torch::Tensor& context, bool inverse);

  torch::Tensor mask_;  // float, 1 = pass through
  torch::nn::AnyModule conditioner_;
  Transform transform_;
};
TORCH_MODULE(MaskedCoupling);

/// Coupling by splitting the D features at `split`: x = [x_a, x_b] with x_a the
/// first `split` features; y = [x_a, t(x_b; conditioner(x_a, context))].  The
/// conditioner maps [batch..., split] to [batch..., (D - split) * P].  Cheaper
/// than a mask (nothing is computed for the identity half); alternate it with
/// Reverse or a permutation so every coordinate gets transformed.  Event rank 1.
class SplitCouplingImpl : public BijectorImpl {
 public:
  SplitCouplingImpl(int64_t features, int64_t split, torch::nn::AnyModule conditioner,
                    Transform transform);

  const Transform& transform() const { return transform_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result couple(const torch::Tensor& input, const torch::Tensor& context, bool inverse);

  int64_t features_, split_;
  torch::nn::AnyModule conditioner_;
  Transform transform_;
};
TORCH_MODULE(SplitCoupling);

/// Runs `conditioner` and reshapes its output [batch..., n * P] to
/// [batch..., n, P], or throws diffeo::Error naming `where` if its last
/// dimension is not n * P.
torch::Tensor conditioner_parameters(torch::nn::AnyModule& conditioner, const torch::Tensor& input,
                                     const torch::Tensor& context, int64_t n, int64_t P,
                                     const std::string& where);

}  // namespace diffeo
