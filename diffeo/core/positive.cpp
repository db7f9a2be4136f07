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
                std::to_string(value.min().item<double>()));
  stored_ = learnable ? module.register_parameter("unconstrained_" + name, inverse_softplus(value))
                      : module.register_buffer(name, value);
}

}  // namespace diffeo
