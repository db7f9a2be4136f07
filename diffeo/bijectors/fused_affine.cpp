#include "diffeo/bijectors/fused_affine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "diffeo/core/vector_math.h"

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

  // Many rows at once, so that tanh and exp run a vector of values at a time
  // (vector_math.h): per block of rows, every scale is gathered, then made
  // and exponentiated in two calls, then applied.
  template <typename T>
  void forward_rows(const fused::Rows<T>& rows, int64_t begin, int64_t end, bool inverse) const {
    const T b = static_cast<T>(bound);
    const int64_t F = rows.features(), D = rows.D, split = rows.split;
    const int64_t block = std::max<int64_t>(1, kValuesPerTask / F);
    std::vector<T> scale(static_cast<size_t>(block * F)), factor(scale.size());
    for (int64_t r0 = begin; r0 < end; r0 += block) {
      const int64_t r1 = std::min(end, r0 + block), n = (r1 - r0) * F;
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t f = 0; f < F; ++f)
          scale[(i - r0) * F + f] = rows.theta[i * rows.theta_stride + 2 * f + 1] / b;
      tanh_in_place(scale.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        scale[j] *= b;
        factor[j] = inverse ? -scale[j] : scale[j];
      }
      exp_in_place(factor.data(), n);
      for (int64_t i = r0; i < r1; ++i) {
        const T* x = rows.x + i * D;
        T* y = rows.y + i * D;
        std::copy(x, x + split, y);
        const T* theta = rows.theta + i * rows.theta_stride;
        const T* s = scale.data() + (i - r0) * F;
        const T* e = factor.data() + (i - r0) * F;
        T sum = 0;
        for (int64_t f = 0; f < F; ++f) {
          const T shift = theta[2 * f], t = x[split + f];
          y[split + f] = inverse ? (t - shift) * e[f] : t * e[f] + shift;
          sum += s[f];
        }
        rows.log_det[i] = inverse ? -sum : sum;
      }
    }
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
