#include "diffeo/bijectors/fused_affine.h"

#include <cmath>

namespace diffeo {

namespace {

// The elementwise part of the fused affine layer (a fused::ConditionedLayer
// kernel).  Feature f of a row has theta = (shift, r) and
// s = bound * tanh(r / bound):
//   forward  y = x e^s + shift,     log-det  s
//   inverse  y = (x - shift) e^-s,  log-det -s
struct FusedAffine {
  static constexpr int64_t kValuesPerTask = 512;
  double bound;

  explicit FusedAffine(const std::vector<double>& settings) : bound(settings.at(0)) {}
  int64_t parameters_per_feature() const { return 2; }

  template <typename T>
  T forward_row(const T* theta, const T* x, T* y, int64_t F, bool inverse) const {
    const T b = static_cast<T>(bound);
    T sum = 0;
    for (int64_t f = 0; f < F; ++f) {
      const T shift = theta[2 * f], scale = b * std::tanh(theta[2 * f + 1] / b);
      y[f] = inverse ? (x[f] - shift) * std::exp(-scale) : x[f] * std::exp(scale) + shift;
      sum += scale;
    }
    return inverse ? -sum : sum;
  }

  // d(scale)/dr = 1 - (scale / bound)^2.
  template <typename T>
  void backward_row(const T* theta, const T* x, const T* grad_y, T grad_log_det, T* grad_theta,
                    T* grad_x, int64_t F, bool inverse) const {
    const T b = static_cast<T>(bound);
    for (int64_t f = 0; f < F; ++f) {
      const T shift = theta[2 * f], scale = b * std::tanh(theta[2 * f + 1] / b);
      const T dscale_dr = 1 - (scale / b) * (scale / b);
      const T gy = grad_y[f];
      T grad_scale;
      if (inverse) {
        const T e = std::exp(-scale), y = (x[f] - shift) * e;
        grad_x[f] = gy * e;
        grad_theta[2 * f] = -gy * e;
        grad_scale = -gy * y - grad_log_det;
      } else {
        const T e = std::exp(scale);
        grad_x[f] = gy * e;
        grad_theta[2 * f] = gy;
        grad_scale = gy * x[f] * e + grad_log_det;
      }
      grad_theta[2 * f + 1] = grad_scale * dscale_dr;
    }
  }
};

}  // namespace

Result fused_affine(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
                    double bound, bool inverse) {
  return fused::apply<FusedAffine>(conditioner, inputs, {bound}, inverse);
}

bool can_fuse_affine(const Transform& transform, const std::optional<nn::DenseLayers>& conditioner,
                     const torch::Tensor& x) {
  return fused::kernels_apply(conditioner, x) &&
         dynamic_cast<const AffineTransform*>(transform.get()) != nullptr;
}

}  // namespace diffeo
