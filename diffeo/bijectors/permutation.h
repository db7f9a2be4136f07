#pragma once

#include <vector>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Reorders the coordinates of a vector event: forward(x)[..., i] =
/// x[..., permutation[i]].  Volume preserving (log-det 0).  The permutation
/// must contain each of 0 .. n-1 exactly once.
class PermuteImpl : public BijectorImpl {
 public:
  explicit PermuteImpl(std::vector<int64_t> permutation);

  torch::Tensor permutation() const { return permutation_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  torch::Tensor permutation_;
  torch::Tensor inverse_permutation_;
};
TORCH_MODULE(Permute);

/// Reverses the order of a vector event's coordinates (any size); log-det 0.
/// The usual glue between coupling layers.
class ReverseImpl : public BijectorImpl {
 public:
  ReverseImpl();

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;
};
TORCH_MODULE(Reverse);

}  // namespace diffeo
