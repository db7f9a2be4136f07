#pragma once

#include "diffeo/distributions/distribution.h"

namespace diffeo {

/// The uniform distribution on the box [low, high] (event shape = low's shape,
/// fixed bounds).  log_prob is -sum(log(high - low)) inside the box and -inf
/// outside it, never NaN.
class UniformImpl : public DistributionImpl {
 public:
  UniformImpl(torch::Tensor low, torch::Tensor high);

  torch::Tensor low() const { return low_; }
  torch::Tensor high() const { return high_; }

 protected:
  torch::Tensor log_prob_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                            c10::optional<at::Generator> generator) override;

 private:
  torch::Tensor low_;
  torch::Tensor high_;
};
TORCH_MODULE(Uniform);

}  // namespace diffeo
