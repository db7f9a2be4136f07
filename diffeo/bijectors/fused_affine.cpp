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

  // Both passes take many rows at once, so that tanh and exp run a vector of
  // values at a time (vector_math.h): for each block of rows in [begin, end),
  // every scale s of the block is gathered and made, and e^s (e^-s for the
  // inverse) in a second call, then f(r0, r1, s, e) applies them to rows
  // [r0, r1), whose values start at s and e.
  template <typename T, typename F>
  void for_each_block(const T* theta, int64_t stride, int64_t features, int64_t begin,
                      int64_t end, bool inverse, const F& f) const {
    const T b = static_cast<T>(bound);
    const int64_t block = std::max<int64_t>(1, kValuesPerTask / features);
    std::vector<T> scale(static_cast<size_t>(block * features)), factor(scale.size());
    for (int64_t r0 = begin; r0 < end; r0 += block) {
      const int64_t r1 = std::min(end, r0 + block), n = (r1 - r0) * features;
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t k = 0; k < features; ++k)
          scale[(i - r0) * features + k] = theta[i * stride + 2 * k + 1] / b;
      tanh_in_place(scale.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        scale[j] *= b;
        factor[j] = inverse ? -scale[j] : scale[j];
      }
      exp_in_place(factor.data(), n);
      f(r0, r1, scale.data(), factor.data());
    }
  }

  template <typename T>
  void forward_rows(const fused::Rows<T>& rows, int64_t begin, int64_t end, bool inverse) const {
    const int64_t F = rows.features(), D = rows.D, split = rows.split;
    for_each_block(rows.theta, rows.theta_stride, F, begin, end, inverse,
                   [&](int64_t r0, int64_t r1, const T* scale, const T* factor) {
                     for (int64_t i = r0; i < r1; ++i) {
                       const T* x = rows.x + i * D;
                       T* y = rows.y + i * D;
                       std::copy(x, x + split, y);
                       const T* theta = rows.theta + i * rows.theta_stride;
                       const T* s = scale + (i - r0) * F;
                       const T* e = factor + (i - r0) * F;
                       T sum = 0;
                       for (int64_t f = 0; f < F; ++f) {
                         const T shift = theta[2 * f], t = x[split + f];
                         y[split + f] = inverse ? (t - shift) * e[f] : t * e[f] + shift;
                         sum += s[f];
                       }
                       rows.log_det[i] = inverse ? -sum : sum;
                     }
                   });
  }

  // d(scale)/dr = 1 - (scale / bound)^2.
  template <typename T>
  void backward_rows(const fused::GradientRows<T>& rows, int64_t begin, int64_t end,
                     bool inverse) const {
    const T b = static_cast<T>(bound);
    const int64_t F = rows.features(), D = rows.D, split = rows.split;
    const int64_t stride = rows.theta_stride;
    for_each_block(
        rows.theta, stride, F, begin, end, inverse,
        [&](int64_t r0, int64_t r1, const T* scale, const T* factor) {
          for (int64_t i = r0; i < r1; ++i) {
            const T* gy = rows.grad_y + i * D;
            T* gx = rows.grad_x + i * D;
            std::copy(gy, gy + split, gx);
            const T* x = rows.x + i * D + split;
            const T* theta = rows.theta + i * stride;
            T* grad_theta = rows.grad_theta + i * stride;
            const T grad_log_det = rows.grad_log_det[i];
            for (int64_t f = 0; f < F; ++f) {
              const T s = scale[(i - r0) * F + f], e = factor[(i - r0) * F + f];
              const T dscale_dr = 1 - (s / b) * (s / b), g = gy[split + f];
              T grad_scale;
              if (inverse) {
                const T y = (x[f] - theta[2 * f]) * e;
                grad_theta[2 * f] = -g * e;
                grad_scale = -g * y - grad_log_det;
              } else {
                grad_theta[2 * f] = g;
                grad_scale = g * x[f] * e + grad_log_det;
              }
              gx[split + f] = g * e;
              grad_theta[2 * f + 1] = grad_scale * dscale_dr;
            }
          }
        });
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
