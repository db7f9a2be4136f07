#pragma once

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// The inverse of a bijector: its forward is the wrapped bijector's inverse and
/// vice versa.  Inverse(MAF) is an IAF; Inverse(Exp) is a log map.
class InverseImpl : public BijectorImpl {
 public:
  explicit InverseImpl(Bijector bijector);

  const Bijector& bijector() const { return bijector_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Bijector bijector_;
};
TORCH_MODULE(Inverse);

}  // namespace diffeo
