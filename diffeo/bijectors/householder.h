#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Options of Householder: the vector size, the number of reflections and the
/// seed of their random initial vectors.
struct HouseholderOptions {
  /* implicit */ HouseholderOptions(int64_t dim) : dim_(dim) {}
  /// Size of the vectors (>= 1).
  TORCH_ARG(int64_t, dim);
  /// Number k of reflections (0: dim, enough to reach every orthogonal matrix).
  TORCH_ARG(int64_t, reflections) = 0;
  /// Seeds the initial reflection vectors (standard normal).
  TORCH_ARG(uint64_t, seed) = 0;
  /// false: the vectors are fixed buffers (a fixed random rotation).
  TORCH_ARG(bool, learnable) = true;
};

/// A learned orthogonal map of vectors: y = Q x with Q = H_1 H_2 ... H_k, the
/// product of k Householder reflections H_i = I - 2 v_i v_i^T / |v_i|^2 with
/// learnable vectors v_i (stored as "vectors", [k, dim]).  Orthogonal, so the
/// log-det is exactly 0 and the inverse is x = Q^T y; k = dim reflections
/// reach every orthogonal matrix (det Q = (-1)^k).  HINT mixes the coordinates
/// between its hierarchical couplings with it.  Event rank 1.
class HouseholderImpl : public BijectorImpl {
 public:
  explicit HouseholderImpl(HouseholderOptions options);

  /// Q = H_1 ... H_k, [dim, dim].
  torch::Tensor matrix() const;
  /// The reflection vectors v_i as rows, [k, dim].
  torch::Tensor vectors() const { return vectors_; }
  const HouseholderOptions& options() const { return options_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  HouseholderOptions options_;
  torch::Tensor vectors_;
};
TORCH_MODULE(Householder);

}  // namespace diffeo
