#pragma once

#include "diffeo/bijectors/bijector.h"
#include "diffeo/distributions/distribution.h"

namespace diffeo {

/// A normalizing flow: the distribution of y = f(x) for x ~ base and a
/// bijector f.  log_prob(y) = base.log_prob(f^-1(y)) + log|det df^-1/dy|, one
/// inverse pass; sampling is one forward pass.  The bijector's event rank may
/// not exceed the base's (an elementwise bijector on a vector base is fine:
/// its log-det is summed over the event).  The context goes to both the base
/// and the bijector, so conditional flows are Transformed too.
class TransformedImpl : public DistributionImpl {
 public:
  TransformedImpl(Distribution base, Bijector bijector);

  Distribution base() const { return base_; }
  Bijector bijector() const { return bijector_; }

 protected:
  torch::Tensor log_prob_impl(const torch::Tensor& y, const torch::Tensor& context) override;
  torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                            c10::optional<at::Generator> generator) override;
  SampleAndLogProb sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                            const torch::Tensor& context,
                                            c10::optional<at::Generator> generator) override;

 private:
  Distribution base_;
  Bijector bijector_;
  int64_t extra_event_dims_;  // base event rank - bijector event rank
};
TORCH_MODULE(Transformed);

}  // namespace diffeo
