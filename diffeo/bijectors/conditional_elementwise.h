#pragma once

#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// y_i = t(x_i; theta_i(context)): an elementwise transform whose parameters a
/// conditioner computes from the context alone, e.g. a regression model
/// p(y | covariates).  The conditioner is any module with forward(c, {}) ->
/// [batch..., D * P] taking the context c [batch..., context_features] as its
/// input (nn::MLP(MLPOptions(context_features, D * P))).  With the affine
/// transform this is Gaussian regression; with BernsteinChainTransform a deep
/// transformation model.  A context is required.  Event rank 1.
class ConditionalElementwiseImpl : public BijectorImpl {
 public:
  ConditionalElementwiseImpl(int64_t features, int64_t context_features,
                             torch::nn::AnyModule conditioner, Transform transform);

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result run(const torch::Tensor& input, const torch::Tensor& context, bool inverse);

  int64_t features_, context_features_;
  torch::nn::AnyModule conditioner_;
  Transform transform_;
};
TORCH_MODULE(ConditionalElementwise);

}  // namespace diffeo
