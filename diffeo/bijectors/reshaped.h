#pragma once

#include <vector>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Runs a bijector on events of another shape: a vector bijector (event rank
/// 1) on flat vectors of size prod(shape) that reshapes each vector to `shape`
/// (e.g. [1, 28, 28]), applies `bijector` (event rank shape.size(), shape
/// preserving) and flattens the result back; the log-det is the inner one.
/// It lets an image flow live inside the vector machinery (StandardNormal(D),
/// Transformed, Flow, io) unchanged.  The context is passed on as given.
class ReshapedImpl : public BijectorImpl {
 public:
  ReshapedImpl(Bijector bijector, std::vector<int64_t> shape);

  const Bijector& bijector() const { return bijector_; }
  const std::vector<int64_t>& shape() const { return shape_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result run(const torch::Tensor& input, const torch::Tensor& context, bool forward);

  Bijector bijector_{nullptr};
  std::vector<int64_t> shape_;
};

/// Holder of ReshapedImpl (what TORCH_MODULE would give), constructible with a
/// braced shape: Reshaped(bijector, {1, 28, 28}).
class Reshaped : public torch::nn::ModuleHolder<ReshapedImpl> {
 public:
  using torch::nn::ModuleHolder<ReshapedImpl>::ModuleHolder;
  using Impl = ReshapedImpl;
  Reshaped(Bijector bijector, std::vector<int64_t> shape)
      : ModuleHolder(std::make_shared<ReshapedImpl>(std::move(bijector), std::move(shape))) {}
};

}  // namespace diffeo
