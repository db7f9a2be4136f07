#include "diffeo/core/positive.h"

namespace diffeo {

torch::Tensor inverse_softplus(const torch::Tensor& y) {
  return y + torch::log(-torch::expm1(-y));
}

}  // namespace diffeo
