#pragma once

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Activation normalisation (Kingma & Dhariwal 2018, Glow) for vectors of size
/// `dim` (event rank 1): y = x * exp(log_scale) + loc per feature, forward
/// log-det = sum(log_scale).  The scale is held as a learnable log-scale, so it
/// stays positive under any gradient step.  Data-dependent initialisation: the
/// first inverse call in training mode while initialized() is false sets loc and
/// scale to the mean and standard deviation (+ eps) of its input over all batch
/// dimensions, so the base-side output of that batch has zero mean and unit
/// variance per feature; that batch needs at least 2 samples (rows holding a
/// NaN or an infinity are left out of the statistics).  The flag is the
/// buffer "initialized" (1 once set), saved with the model, so a loaded model is
/// not initialised again.  Before initialisation the map is the identity; an
/// empty batch ([0, dim]) passes through it without initialising.
class ActNormImpl : public BijectorImpl {
 public:
  explicit ActNormImpl(int64_t dim, double eps = 1e-6);

  torch::Tensor loc() const { return loc_; }
  torch::Tensor log_scale() const { return log_scale_; }
  /// exp(log_scale).
  torch::Tensor scale() const { return torch::exp(log_scale_); }
  /// Whether the data-dependent initialisation has run (or was loaded).
  bool initialized() const;

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  void initialize(const torch::Tensor& y);

  double eps_;
  torch::Tensor loc_;
  torch::Tensor log_scale_;
  // A floating-point 0/1 flag: Module::to(dtype) casts every buffer, bools included.
  torch::Tensor initialized_;
};
TORCH_MODULE(ActNorm);

}  // namespace diffeo
