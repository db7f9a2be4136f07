#include "diffeo/bijectors/spline.h"

#include <ATen/ExpandUtils.h>

#include <cmath>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::spline {

namespace {

// A minimum share of the total width (height) must be positive and leave room for all bins.
void check_share(double share, int64_t bins, const std::string& name, const std::string& where) {
  if (!(share > 0) || !(share * static_cast<double>(bins) < 1))
    throw Error(where + ": option '" + name + "' must satisfy 0 < " + name + " * bins < 1, got " +
                number_string(share) + " with " + std::to_string(bins) + " bins");
}

// K from a params tensor of shape P + [3K - 1].
int64_t bins_of(const torch::Tensor& params, const std::string& where) {
  check_floating(params, "params", where);
  const int64_t size = params.dim() > 0 ? params.size(-1) : 0;
  if (params.dim() == 0 || size < 2 || (size + 1) % 3 != 0)
    throw Error(where + ": argument 'params' of shape " + shape_string(params.sizes()) +
                " has last dimension " + std::to_string(size) +
                ", but a spline of K bins needs 3K - 1 values (2, 5, 8, 11, ...)");
  return (size + 1) / 3;
}

// Knot positions -bound = c_0 < ... < c_K = bound from K unnormalised bin sizes.
torch::Tensor edges(const torch::Tensor& unnormalised, double min_share, double bound) {
  const int64_t bins = unnormalised.size(-1);
  auto shares = min_share + (1 - min_share * bins) * torch::softmax(unnormalised, -1);
  auto cumulative = torch::cumsum(shares, -1).narrow(-1, 0, bins - 1);
  // The ends are set, not summed, so that -bound and bound are knots exactly.
  auto end = torch::ones_like(shares.narrow(-1, 0, 1));
  auto fraction = torch::cat({torch::zeros_like(end), cumulative, end}, -1);
  return bound * (2 * fraction - 1);
}

// The bin of each input, its knots and its slopes, gathered from the knot tensors.
struct Bin {
  torch::Tensor x0, width, y0, height, d0, d1, slope;

  Bin(const Knots& k, const torch::Tensor& index) {
    auto at = [](const torch::Tensor& t, const torch::Tensor& i) {
      return t.gather(-1, i.unsqueeze(-1)).squeeze(-1);
    };
    auto next = index + 1;
    x0 = at(k.x, index);
    width = at(k.x, next) - x0;
    y0 = at(k.y, index);
    height = at(k.y, next) - y0;
    d0 = at(k.derivative, index);
    d1 = at(k.derivative, next);
    slope = height / width;
  }

  // log dy/dx at the relative position theta in [0, 1]:
  // s^2 (d1 t^2 + 2 s t (1 - t) + d0 (1 - t)^2) / (s + (d0 + d1 - 2 s) t (1 - t))^2.
  torch::Tensor log_derivative(const torch::Tensor& theta) const {
    const auto& s = slope;
    auto rest = 1 - theta;
    auto between = theta * rest;
    auto numerator = d1 * theta * theta + 2 * s * between + d0 * rest * rest;
    auto denominator = s + (d0 + d1 - 2 * s) * between;
    return 2 * torch::log(s) + torch::log(numerator) - 2 * torch::log(denominator);
  }
};

// The bin of each value of t (already clamped into [-bound, bound]) among the
// knots c_0 < ... < c_K: the number of interior knots <= t, so t == c_K falls
// in the last bin.
torch::Tensor bin_index(const torch::Tensor& t, const torch::Tensor& knots) {
  auto interior = knots.narrow(-1, 1, knots.size(-1) - 2);
  return (t.unsqueeze(-1) >= interior).sum(-1);
}

}  // namespace

void SplineOptions::validate(int64_t bins, const std::string& where) const {
  check_positive(bins, "bins", where);
  if (!(bound > 0) || !std::isfinite(bound))
    throw Error(where + ": option 'bound' must be finite and > 0, got " + number_string(bound));
  check_share(min_bin_width, bins, "min_bin_width", where);
  check_share(min_bin_height, bins, "min_bin_height", where);
  if (!(min_derivative > 0) || !(min_derivative < 1))
    throw Error(where + ": option 'min_derivative' must satisfy 0 < min_derivative < 1, got " +
                number_string(min_derivative));
}

int64_t parameter_count(int64_t bins) {
  check_positive(bins, "bins", "spline::parameter_count");
  return 3 * bins - 1;
}

Knots knots(const torch::Tensor& params, const SplineOptions& options) {
  const int64_t bins = bins_of(params, "spline::knots");
  options.validate(bins, "spline::knots");
  const double bound = options.bound;
  auto x = edges(params.narrow(-1, 0, bins), options.min_bin_width, bound);
  auto y = edges(params.narrow(-1, bins, bins), options.min_bin_height, bound);
  // min + (1 - min) softplus(u) / log 2, written so that u = 0 gives exactly 1.
  auto u = params.narrow(-1, 2 * bins, bins - 1);
  auto interior = 1 + (1 - options.min_derivative) * (torch::softplus(u) / std::log(2.0) - 1);
  auto end = torch::ones_like(params.narrow(-1, 0, 1));
  return {x, y, torch::cat({end, interior, end}, -1)};
}

Result rational_quadratic(const torch::Tensor& x, const torch::Tensor& params, bool inverse,
                          const SplineOptions& options) {
  const std::string where = "spline::rational_quadratic";
  check_floating(x, inverse ? "y" : "x", where);
  const int64_t bins = bins_of(params, where);
  options.validate(bins, where);
  check_same_dtype_device(params, "params", x, inverse ? "y" : "x", where);
  const auto shape = broadcast_with_parameters(x, params, where);

  auto k = knots(params, options);
  auto knot_shape = shape;
  knot_shape.push_back(bins + 1);
  k = {k.x.expand(knot_shape), k.y.expand(knot_shape), k.derivative.expand(knot_shape)};

  // The spline is evaluated on inputs clamped into [-bound, bound], so that the
  // branch `where` discards in the tails is finite and so are its gradients.
  const double bound = options.bound;
  auto t = x.expand(shape);
  auto inside = (t >= -bound) & (t <= bound);
  auto clamped = t.clamp(-bound, bound);
  torch::Tensor output, log_det;
  if (!inverse) {
    Bin bin(k, bin_index(clamped, k.x));
    auto theta = (clamped - bin.x0) / bin.width;
    const auto& s = bin.slope;
    auto between = theta * (1 - theta);
    auto numerator = bin.height * (s * theta * theta + bin.d0 * between);
    auto denominator = s + (bin.d0 + bin.d1 - 2 * s) * between;
    output = bin.y0 + numerator / denominator;
    log_det = bin.log_derivative(theta);
  } else {
    // theta in [0, 1] solves a theta^2 + b theta + c = 0.  That root is both
    // (-b + sqrt(disc)) / 2a and 2c / (-b - sqrt(disc)); the second cancels where
    // b < 0 and the first does not, so each is taken where it is stable.  Each
    // gets a safe denominator in its untaken branch: where b < 0, a > h s > 0, and
    // where b >= 0, -b - sqrt(disc) < 0.
    Bin bin(k, bin_index(clamped, k.y));
    const auto& s = bin.slope;
    auto rise = clamped - bin.y0;
    auto curvature = bin.d0 + bin.d1 - 2 * s;
    auto a = bin.height * (s - bin.d0) + rise * curvature;
    auto b = bin.height * bin.d0 - rise * curvature;
    auto c = -s * rise;
    auto root = torch::sqrt((b * b - 4 * a * c).clamp_min(0));
    auto negative = b < 0;
    auto one = torch::ones_like(b);
    auto theta = torch::where(negative, (root - b) / torch::where(negative, 2 * a, one),
                              2 * c / torch::where(negative, -one, -b - root));
    output = bin.x0 + theta * bin.width;
    log_det = -bin.log_derivative(theta);
  }
  return {torch::where(inside, output, t), torch::where(inside, log_det, torch::zeros_like(t))};
}

}  // namespace diffeo::spline
