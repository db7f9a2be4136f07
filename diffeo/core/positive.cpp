#include "diffeo/core/positive.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

torch::Tensor inverse_softplus(const torch::Tensor& y) { return y + torch::log(-torch::expm1(-y)); }

Positive::Positive(torch::nn::Module& module, const std::string& where, const std::string& name,
                   torch::Tensor value, bool learnable)
    : learnable_(learnable) {
  check_finite(value, name, where);
  if (!(value > 0).all().item<bool>())
    throw Error(where + ": argument '" + name + "' must be positive everywhere, got minimum " +
                number_string(value.min().item<double>()));
  // A copy: registering must not alias the caller's tensor or turn on its requires_grad.
  auto own = value.detach().clone();
  stored_ = learnable ? module.register_parameter("unconstrained_" + name, inverse_softplus(own))
                      : module.register_buffer(name, own);
}

}  // namespace diffeo
