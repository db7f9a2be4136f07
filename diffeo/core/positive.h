#pragma once
// Positive quantities (scales, widths, hinge softnesses) held by modules.

#include <torch/torch.h>

#include <string>

namespace diffeo {

/// The inverse of softplus for y > 0: log(expm1(y)) = y + log(-expm1(-y)),
/// written so it neither overflows for large y nor loses digits for small y.
torch::Tensor inverse_softplus(const torch::Tensor& y);

/// A positive value registered on a module.  Learnable: a parameter
/// "unconstrained_<name>" = inverse_softplus(value), read through softplus, so
/// no gradient step can make it <= 0.  Fixed: a buffer "<name>" holding the
/// value itself, so that it stays exact under .to(torch::kFloat64).
class Positive {
 public:
  Positive() = default;
  /// Checks that `value` is finite and > 0 (else diffeo::Error naming `where`
  /// and `name`) and registers it on `module`.
  Positive(torch::nn::Module& module, const std::string& where, const std::string& name,
           torch::Tensor value, bool learnable);

  torch::Tensor value() const { return learnable_ ? torch::softplus(stored_) : stored_; }

 private:
  torch::Tensor stored_;
  bool learnable_ = false;
};

}  // namespace diffeo
