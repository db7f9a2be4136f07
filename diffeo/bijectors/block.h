#pragma once

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Lifts a bijector to a larger event: Block(b, n) treats the last n batch
/// dimensions of `b` as part of the event, so its log-det is summed over them.
/// Block(Exp(), 1) is an elementwise exp on vectors with one log-det per vector.
class BlockImpl : public BijectorImpl {
 public:
  BlockImpl(Bijector bijector, int64_t extra_event_dims);

  const Bijector& bijector() const { return bijector_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Bijector bijector_;
  int64_t extra_event_dims_;
};
TORCH_MODULE(Block);

}  // namespace diffeo
