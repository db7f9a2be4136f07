#pragma once
// Diagonal Gaussian distributions.

#include "diffeo/core/positive.h"
#include "diffeo/distributions/distribution.h"

namespace diffeo {

/// A Gaussian with independent coordinates: event shape = loc's shape (a [d]
/// loc gives vectors of size d).  A learnable scale stays positive through
/// softplus (see Positive); with learnable = false, loc and scale are fixed
/// buffers.
class NormalImpl : public DistributionImpl {
 public:
  NormalImpl(torch::Tensor loc, torch::Tensor scale, bool learnable = true);

  torch::Tensor loc() const { return loc_; }
  torch::Tensor scale() const { return scale_.value(); }

 protected:
  torch::Tensor log_prob_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                            c10::optional<at::Generator> generator) override;

 private:
  torch::Tensor loc_;
  Positive scale_;
};
TORCH_MODULE(Normal);

/// N(0, I) on vectors of size `dim`: the usual base of a flow.  Follows
/// .to(dtype/device) like any module.
class StandardNormalImpl : public NormalImpl {
 public:
  explicit StandardNormalImpl(int64_t dim);

 protected:
  // The same values as NormalImpl's with loc 0 and scale 1, in fewer
  // operators (this is every flow's base, on every training step).
  torch::Tensor log_prob_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                            c10::optional<at::Generator> generator) override;

 private:
  explicit StandardNormalImpl(torch::Tensor zeros);
};
TORCH_MODULE(StandardNormal);

}  // namespace diffeo
