#pragma once
// Stable map from positive values to unconstrained reals, used to keep learnable
// scales positive: value = torch::softplus(raw), raw = inverse_softplus(value).

#include <torch/torch.h>

namespace diffeo {

/// The inverse of softplus for y > 0: log(expm1(y)) = y + log(-expm1(-y)),
/// written so it neither overflows for large y nor loses digits for small y.
torch::Tensor inverse_softplus(const torch::Tensor& y);

}  // namespace diffeo
