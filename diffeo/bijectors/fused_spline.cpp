#include "diffeo/bijectors/fused_spline.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/core/error.h"

namespace diffeo {

namespace {

// The rational quadratic on one bin, knots (x0, y0) and (x0 + width, y0 +
// height) with slopes d0 and d1 there, s = height / width.  At the relative
// position theta in [0, 1], with b = theta (1 - theta):
//   y(theta) = y0 + height (s theta^2 + d0 b) / (s + (d0 + d1 - 2 s) b)
//   L(theta) = log dy/dx
//            = 2 log s + log(d1 theta^2 + 2 s b + d0 (1 - theta)^2) - 2 log(s + (d0 + d1 - 2 s) b)
// The forward pieces are written as spline.cpp writes them, so both paths round alike.
template <typename T>
struct Bin {
  T x0, width, y0, height, d0, d1, slope;

  T value(T theta) const {
    const T between = theta * (1 - theta);
    const T numerator = height * (slope * theta * theta + d0 * between);
    const T denominator = slope + (d0 + d1 - 2 * slope) * between;
    return y0 + numerator / denominator;
  }

  T log_derivative(T theta) const {
    const T rest = 1 - theta, between = theta * rest;
    const T numerator = d1 * theta * theta + 2 * slope * between + d0 * rest * rest;
    const T denominator = slope + (d0 + d1 - 2 * slope) * between;
    return 2 * std::log(slope) + std::log(numerator) - 2 * std::log(denominator);
  }

  // The theta in [0, 1] with value(theta) = y: the root of a theta^2 + b theta +
  // c = 0 in the form that does not cancel (see spline.cpp).
  T solve(T y) const {
    const T rise = y - y0, curvature = d0 + d1 - 2 * slope;
    const T a = height * (slope - d0) + rise * curvature;
    const T b = height * d0 - rise * curvature;
    const T c = -slope * rise;
    const T root = std::sqrt(std::max(b * b - 4 * a * c, T(0)));
    return b < 0 ? (root - b) / (2 * a) : 2 * c / (-b - root);
  }

  // The partial derivatives of y and L at theta, s, height, d0, d1 taken as
  // independent (y_theta = height s q / denominator^2, q the L numerator).
  struct Partials {
    T y_theta, l_theta, y_slope, l_slope, y_height, y_d0, l_d0, y_d1, l_d1;
  };

  Partials partials(T theta) const {
    const T rest = 1 - theta, between = theta * rest, dbetween = 1 - 2 * theta;
    const T curvature = d0 + d1 - 2 * slope;
    const T denominator = slope + curvature * between;
    const T shape = slope * theta * theta + d0 * between;  // y = y0 + height shape / denominator
    const T q = d1 * theta * theta + 2 * slope * between + d0 * rest * rest;
    const T over = height * shape / (denominator * denominator);  // -dy/d(denominator)
    Partials p;
    p.y_theta = height * slope * q / (denominator * denominator);
    p.l_theta = 2 * (d1 * theta + slope * dbetween - d0 * rest) / q -
                2 * curvature * dbetween / denominator;
    p.y_slope = height * theta * theta / denominator - over * (1 - 2 * between);
    p.l_slope = 2 / slope + 2 * between / q - 2 * (1 - 2 * between) / denominator;
    p.y_height = shape / denominator;
    p.y_d0 = height * between / denominator - over * between;
    p.l_d0 = rest * rest / q - 2 * between / denominator;
    p.y_d1 = -over * between;
    p.l_d1 = theta * theta / q - 2 * between / denominator;
    return p;
  }

  // Gradients of the bin's quantities given those of y and L at fixed theta
  // (slope = height / width passed on to both).
  struct Grad {
    T x0, width, y0, height, d0, d1;
  };

  Grad pullback(const Partials& p, T grad_y, T grad_l) const {
    const T grad_slope = grad_y * p.y_slope + grad_l * p.l_slope;
    return {0,
            -grad_slope * slope / width,
            grad_y,
            grad_y * p.y_height + grad_slope / width,
            grad_y * p.y_d0 + grad_l * p.l_d0,
            grad_y * p.y_d1 + grad_l * p.l_d1};
  }
};

// One element's spline from its P = 3K - 1 raw values [widths K | heights K |
// interior derivatives K - 1], its knots built as spline::knots builds them.
// Only for inputs in [-bound, bound]; the callers keep the identity outside.
template <typename T>
class ElementSpline {
 public:
  ElementSpline(const T* raw, int64_t bins, const spline::SplineOptions& options)
      : raw_(raw), bins_(bins), options_(options) {
    edges(raw, static_cast<T>(options.min_bin_width), share_x_, knot_x_);
    edges(raw + bins, static_cast<T>(options.min_bin_height), share_y_, knot_y_);
  }

  // g(t) or g^-1(t), and its log|derivative| in *log_det.
  T apply(T t, bool inverse, T* log_det) const {
    const Bin<T> b = bin(bin_of(t, inverse ? knot_y_ : knot_x_));
    if (inverse) {
      const T theta = b.solve(t);
      *log_det = -b.log_derivative(theta);
      return b.x0 + theta * b.width;
    }
    const T theta = (t - b.x0) / b.width;
    *log_det = b.log_derivative(theta);
    return b.value(theta);
  }

  // The backward of apply: writes the P raw values' gradients and returns t's,
  // given the gradients of its output and log-det.
  T backward(T t, bool inverse, T grad_out, T grad_log_det, T* grad_raw) const {
    const int64_t i = bin_of(t, inverse ? knot_y_ : knot_x_);
    const Bin<T> b = bin(i);
    typename Bin<T>::Grad g;
    T grad_t;
    if (inverse) {
      // x = x0 + theta width, log-det -L(theta), theta implicit in y(theta) = t:
      // dtheta/dt = 1 / y_theta and dtheta/dq = -y_q / y_theta for the other inputs q.
      const T theta = b.solve(t);
      const auto p = b.partials(theta);
      grad_t = (grad_out * b.width - grad_log_det * p.l_theta) / p.y_theta;
      g = b.pullback(p, -grad_t, -grad_log_det);
      g.x0 += grad_out;
      g.width += grad_out * theta;
    } else {
      // theta = (t - x0) / width.
      const T theta = (t - b.x0) / b.width;
      const auto p = b.partials(theta);
      grad_t = (grad_out * p.y_theta + grad_log_det * p.l_theta) / b.width;
      g = b.pullback(p, grad_out, grad_log_det);
      g.x0 -= grad_t;
      g.width -= grad_t * theta;
    }
    // width = c_{i+1} - c_i, height likewise.
    edges_backward(share_x_, static_cast<T>(options_.min_bin_width), i, g.x0 - g.width, g.width,
                   grad_raw);
    edges_backward(share_y_, static_cast<T>(options_.min_bin_height), i, g.y0 - g.height,
                   g.height, grad_raw + bins_);
    T* grad_u = grad_raw + 2 * bins_;
    std::fill(grad_u, grad_u + bins_ - 1, T(0));
    derivative_backward(i, g.d0, grad_u);
    derivative_backward(i + 1, g.d1, grad_u);
    return grad_t;
  }

 private:
  // c_0 = -bound < ... < c_K = bound from K raw bin sizes, as spline.cpp's
  // edges(): softmax shares of at least min_share, their cumulative sums, the
  // ends set exactly.  Keeps the softmax for the backward.
  void edges(const T* raw, T min_share, T* softmax, T* c) const {
    const T bound = static_cast<T>(options_.bound);
    const T largest = *std::max_element(raw, raw + bins_);
    T sum = 0;
    for (int64_t k = 0; k < bins_; ++k) {
      softmax[k] = std::exp(raw[k] - largest);
      sum += softmax[k];
    }
    const T inverse_sum = 1 / sum;
    for (int64_t k = 0; k < bins_; ++k) softmax[k] *= inverse_sum;
    const T scale = 1 - min_share * static_cast<T>(bins_);
    T cumulative = 0;
    c[0] = -bound;
    for (int64_t k = 0; k + 1 < bins_; ++k) {
      cumulative += min_share + scale * softmax[k];
      c[k + 1] = bound * (2 * cumulative - 1);
    }
    c[bins_] = bound;
  }

  // The gradients of edges()' raw values given those of knots c_i and c_{i+1}
  // (the ends are constants).  Share j enters the knots after it: c_i when
  // j < i, c_{i+1} when j <= i.
  void edges_backward(const T* softmax, T min_share, int64_t i, T grad_lo, T grad_hi,
                      T* grad_raw) const {
    const T two_bound = 2 * static_cast<T>(options_.bound);
    const T scale = 1 - min_share * static_cast<T>(bins_);
    const T lo = i > 0 ? two_bound * grad_lo : T(0);
    const T hi = i + 1 < bins_ ? two_bound * grad_hi : T(0);
    T dot = 0;
    for (int64_t j = 0; j < bins_; ++j) {
      grad_raw[j] = scale * ((j < i ? lo : T(0)) + (j <= i ? hi : T(0)));
      dot += softmax[j] * grad_raw[j];
    }
    for (int64_t j = 0; j < bins_; ++j) grad_raw[j] = softmax[j] * (grad_raw[j] - dot);
  }

  // The slope at knot k: 1 at the ends; inside, min + (1 - min) softplus(u) /
  // log 2 written as spline::knots writes it (u = 0 gives exactly 1), with
  // torch::softplus's threshold of 20.
  T derivative(int64_t k) const {
    if (k == 0 || k == bins_) return 1;
    const T u = raw_[2 * bins_ + k - 1];
    const T softplus = u > 20 ? u : std::log1p(std::exp(u));
    return 1 + static_cast<T>(1 - options_.min_derivative) *
                   (softplus / static_cast<T>(std::log(2.0)) - 1);
  }

  void derivative_backward(int64_t k, T grad, T* grad_u) const {
    if (k == 0 || k == bins_) return;
    const T u = raw_[2 * bins_ + k - 1], z = std::exp(u);
    const T dsoftplus = u > 20 ? T(1) : z / (z + 1);
    grad_u[k - 1] = grad * static_cast<T>(1 - options_.min_derivative) /
                    static_cast<T>(std::log(2.0)) * dsoftplus;
  }

  // The number of interior knots <= t, so t == c_K falls in the last bin.
  int64_t bin_of(T t, const T* knots) const {
    int64_t i = 0;
    for (int64_t k = 1; k < bins_; ++k) i += t >= knots[k];
    return i;
  }

  Bin<T> bin(int64_t i) const {
    const T width = knot_x_[i + 1] - knot_x_[i], height = knot_y_[i + 1] - knot_y_[i];
    return {knot_x_[i], width, knot_y_[i], height, derivative(i), derivative(i + 1),
            height / width};
  }

  const T* raw_;
  int64_t bins_;
  const spline::SplineOptions& options_;
  T share_x_[kFusedSplineMaxBins], share_y_[kFusedSplineMaxBins];
  T knot_x_[kFusedSplineMaxBins + 1], knot_y_[kFusedSplineMaxBins + 1];
};

// The elementwise part of the fused spline layer (a fused::ConditionedLayer
// kernel): ElementSpline on [-bound, bound], the identity with log-det 0 and
// no parameter gradient outside.
struct FusedSpline {
  static constexpr int64_t kValuesPerTask = 64;
  int64_t bins;
  spline::SplineOptions options;

  static std::vector<double> settings(int64_t bins, const spline::SplineOptions& o) {
    return {static_cast<double>(bins), o.bound, o.min_bin_width, o.min_bin_height,
            o.min_derivative};
  }
  explicit FusedSpline(const std::vector<double>& s)
      : bins(static_cast<int64_t>(s.at(0))), options{s.at(1), s.at(2), s.at(3), s.at(4)} {}
  int64_t parameters_per_feature() const { return 3 * bins - 1; }

  template <typename T>
  bool inside(T t) const {
    const T bound = static_cast<T>(options.bound);
    return t >= -bound && t <= bound;
  }

  template <typename T>
  void forward_rows(const fused::Rows<T>& rows, int64_t begin, int64_t end, bool inverse) const {
    fused::forward_each_row(*this, rows, begin, end, inverse);
  }

  template <typename T>
  T forward_row(const T* theta, const T* x, T* y, int64_t F, bool inverse) const {
    const int64_t P = parameters_per_feature();
    T sum = 0;
    for (int64_t f = 0; f < F; ++f) {
      if (!inside(x[f])) {
        y[f] = x[f];
        continue;
      }
      T log_det;
      y[f] = ElementSpline<T>(theta + f * P, bins, options).apply(x[f], inverse, &log_det);
      sum += log_det;
    }
    return sum;
  }

  template <typename T>
  void backward_rows(const fused::GradientRows<T>& rows, int64_t begin, int64_t end,
                     bool inverse) const {
    fused::backward_each_row(*this, rows, begin, end, inverse);
  }

  template <typename T>
  void backward_row(const T* theta, const T* x, const T* grad_y, T grad_log_det, T* grad_theta,
                    T* grad_x, int64_t F, bool inverse) const {
    const int64_t P = parameters_per_feature();
    for (int64_t f = 0; f < F; ++f) {
      T* grad_raw = grad_theta + f * P;
      if (!inside(x[f])) {
        grad_x[f] = grad_y[f];
        std::fill(grad_raw, grad_raw + P, T(0));
        continue;
      }
      grad_x[f] = ElementSpline<T>(theta + f * P, bins, options)
                      .backward(x[f], inverse, grad_y[f], grad_log_det, grad_raw);
    }
  }
};

}  // namespace

Result fused_spline(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
                    const spline::SplineOptions& options, bool inverse) {
  const std::string where = "fused_spline";
  if (conditioner.weights.empty() || inputs.x.dim() != 2)
    throw Error(where + ": needs a conditioner with at least one layer and a 2-D x");
  const int64_t features = inputs.x.size(1) - inputs.split;
  const int64_t width = conditioner.weights.back().size(0);
  const int64_t P = features > 0 ? width / features : 0;
  if (features < 1 || P * features != width || P < 2 || (P + 1) % 3 != 0)
    throw Error(where + ": the conditioner gives " + std::to_string(width) +
                " values per row, which is not " + std::to_string(features) +
                " transformed features x (3K - 1) spline parameters");
  const int64_t bins = (P + 1) / 3;
  if (bins > kFusedSplineMaxBins)
    throw Error(where + ": " + std::to_string(bins) + " bins, more than the " +
                std::to_string(kFusedSplineMaxBins) + " the fused spline takes");
  options.validate(bins, where);
  return fused::apply<FusedSpline>(conditioner, inputs, FusedSpline::settings(bins, options),
                                   inverse);
}

bool can_fuse_spline(const Transform& transform, const std::optional<nn::DenseLayers>& conditioner,
                     const torch::Tensor& x) {
  const auto* spline = dynamic_cast<const SplineTransform*>(transform.get());
  return spline && spline->bins() <= kFusedSplineMaxBins && fused::kernels_apply(conditioner, x);
}

}  // namespace diffeo
