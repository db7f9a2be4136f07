#include "diffeo/bijectors/bernstein.h"

#include <ATen/ExpandUtils.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bernstein {

namespace {

bool bounded(const BernsteinOptions& options) { return options.bound > 0; }

// M from params of shape P + [parameter_count(M)].
int64_t order_of(const torch::Tensor& params, const BernsteinOptions& options,
                 const std::string& where) {
  check_floating(params, "params", where);
  const int64_t size = params.dim() > 0 ? params.size(-1) : 0;
  const int64_t order = bounded(options) ? size + 2 : size - 1;
  if (params.dim() == 0 || size < 2)
    throw Error(where + ": argument 'params' of shape " + shape_string(params.sizes()) +
                " has last dimension " + std::to_string(size) + ", but " +
                (bounded(options) ? "a bounded polynomial of order M >= 4 needs M - 2 >= 2 values"
                                  : "a polynomial of order M >= 1 needs M + 1 >= 2 values"));
  return order;
}

// C(n, i) for i = 0..n from the product C(n, i) = C(n, i - 1) (n - i + 1) / i
// in long double: each rounded once to double (finite for n <= kMaxOrder).
torch::Tensor choose(int64_t n, const torch::TensorOptions& options) {
  std::vector<double> values(n + 1);
  long double c = 1;
  for (int64_t i = 0; i <= n; ++i) {
    if (i > 0) c = c * (n - i + 1) / i;
    values[i] = static_cast<double>(c);
  }
  values[0] = values[n] = 1;
  return torch::tensor(values, torch::kFloat64).to(options.device());
}

// The order-n Bernstein basis C(n, i) u^i (1 - u)^(n - i), shape u.shape + [n + 1],
// in float64, u clamped into [0, 1].  Written with powers rather than in log
// space: at u = 0 and u = 1 the derivatives must be the polynomial's one-sided
// ones (b'_{n-1}(1) = -n), which log(1 - u) = -inf cannot carry; pow's own
// derivative handles 0^0 and 0^1.
torch::Tensor basis(const torch::Tensor& u, int64_t n) {
  auto w = u.to(torch::kFloat64).clamp(0, 1).unsqueeze(-1);
  auto i = torch::arange(n + 1, w.options());
  return choose(n, w.options()) * w.pow(i) * (1 - w).pow(n - i);
}

// g and g' at u, both from one evaluation of the order-M basis.  By degree
// elevation, b_{i,M-1} = ((M - i) b_{i,M} + (i + 1) b_{i+1,M}) / M, so
// g' = M sum_{i<M} (theta_{i+1} - theta_i) b_{i,M-1} has the order-M
// coefficients (M - j) d_j + j d_{j-1} with d_i = theta_{i+1} - theta_i
// (d_{-1} = d_M = 0).  Float64 throughout.
struct Polynomial {
  torch::Tensor theta;   // [..., M + 1]
  torch::Tensor slopes;  // [..., M + 1], the coefficients of g'

  explicit Polynomial(const torch::Tensor& coefficients) : theta(coefficients.to(torch::kFloat64)) {
    const int64_t order = theta.size(-1) - 1;
    auto d = theta.diff(1, -1);
    auto j = torch::arange(order, theta.options());
    auto zero = torch::zeros_like(theta.narrow(-1, 0, 1));
    slopes = torch::cat({(order - j) * d, zero}, -1) + torch::cat({zero, (j + 1) * d}, -1);
  }

  torch::Tensor basis(const torch::Tensor& u) const {
    return bernstein::basis(u, theta.size(-1) - 1);
  }
  torch::Tensor value(const torch::Tensor& u) const { return (basis(u) * theta).sum(-1); }
  torch::Tensor slope(const torch::Tensor& u) const { return (basis(u) * slopes).sum(-1); }
  std::pair<torch::Tensor, torch::Tensor> value_and_slope(const torch::Tensor& u) const {
    auto b = basis(u);
    return {(b * theta).sum(-1), (b * slopes).sum(-1)};
  }
};

void check_theta(const torch::Tensor& theta, const std::string& where) {
  check_floating(theta, "theta", where);
  if (theta.dim() == 0 || theta.size(-1) < 2)
    throw Error(where + ": argument 'theta' of shape " + shape_string(theta.sizes()) +
                " must end in M + 1 >= 2 coefficients");
}

}  // namespace

void BernsteinOptions::validate(int64_t order, const std::string& where) const {
  check_positive(order, "order", where);
  if (order > kMaxOrder)
    throw Error(where + ": argument 'order' must be <= " + std::to_string(kMaxOrder) +
                " (the basis' binomial coefficients leave double's range beyond), got " +
                std::to_string(order));
  if (!(bound >= 0) || !std::isfinite(bound))
    throw Error(where + ": option 'bound' must be finite and >= 0 (0: unbounded), got " +
                number_string(bound));
  // Order 3 leaves the bounded polynomial no freedom: it would be the identity.
  if (bounded(*this) && order < 4)
    throw Error(where + ": argument 'order' must be >= 4 for a bounded polynomial (bound " +
                number_string(bound) + "), got " + std::to_string(order));
  if (!(min_slope > 0) || !(min_slope < 1))
    throw Error(where + ": option 'min_slope' must satisfy 0 < min_slope < 1, got " +
                number_string(min_slope));
  if (!(tolerance >= 0) || !std::isfinite(tolerance))
    throw Error(where + ": option 'tolerance' must be finite and >= 0 (0: by dtype), got " +
                number_string(tolerance));
  check_positive(max_iterations, "max_iterations", where);
}

int64_t parameter_count(int64_t order, const BernsteinOptions& options) {
  options.validate(order, "bernstein::parameter_count");
  return bounded(options) ? order - 2 : order + 1;
}

torch::Tensor coefficients(const torch::Tensor& params, const BernsteinOptions& options) {
  const std::string where = "bernstein::coefficients";
  const int64_t order = order_of(params, options, where);
  options.validate(order, where);
  const double m = static_cast<double>(order);
  const double min_slope = options.min_slope;
  if (!bounded(options)) {
    auto first = params.narrow(-1, 0, 1);
    // 1 + (1 - min)(softplus(a) / log 2 - 1), written so that a = 0 gives exactly 1.
    auto a = params.narrow(-1, 1, order);
    auto steps = (1 + (1 - min_slope) * (torch::softplus(a) / std::log(2.0) - 1)) / m;
    return torch::cat({first, first + torch::cumsum(steps, -1)}, -1);
  }
  const double share = min_slope / (m - 2);
  auto middle = (1 - 2 / m) * (share + (1 - share * (m - 2)) * torch::softmax(params, -1));
  auto end = torch::full_like(params.narrow(-1, 0, 1), 1 / m);
  auto steps = torch::cat({end, middle}, -1);  // the first M - 1 differences
  // The ends are set, not summed, so that g(0) = 0 and g(1) = 1 exactly.
  return torch::cat({torch::zeros_like(end), torch::cumsum(steps, -1), torch::ones_like(end)}, -1);
}

torch::Tensor value(const torch::Tensor& u, const torch::Tensor& theta) {
  check_floating(u, "u", "bernstein::value");
  check_theta(theta, "bernstein::value");
  return Polynomial(theta).value(u).to(u.scalar_type());
}

torch::Tensor derivative(const torch::Tensor& u, const torch::Tensor& theta) {
  check_floating(u, "u", "bernstein::derivative");
  check_theta(theta, "bernstein::derivative");
  return Polynomial(theta).slope(u).to(u.scalar_type());
}

Root solve(const torch::Tensor& t, const torch::Tensor& theta, double tolerance,
           int64_t max_iterations) {
  const std::string where = "bernstein::solve";
  check_floating(t, "t", where);
  check_theta(theta, where);
  check_positive(max_iterations, "max_iterations", where);
  torch::NoGradGuard no_grad;
  const Polynomial g(theta);
  auto first = g.theta.select(-1, 0), last = g.theta.select(-1, -1);
  auto target = torch::max(torch::min(t.to(torch::kFloat64), last), first);
  // The secant of g over [0, 1] as a first guess: exact for the identity.
  auto u = ((target - first) / (last - first)).clamp(0, 1);
  if (u.numel() == 0) return {u.to(t.scalar_type()), 0};
  // g is computed to about (M + 1) eps relative to its largest coefficient; an
  // element whose residual is below that is as good a root as can be had.
  const int64_t order = theta.size(-1) - 1;
  auto noise = 4 * (order + 1) * std::numeric_limits<double>::epsilon() *
               torch::max(first.abs(), last.abs()).clamp_min(1);
  auto lo = torch::zeros_like(u), hi = torch::ones_like(u);
  for (int64_t iteration = 1; iteration <= max_iterations; ++iteration) {
    auto [value, slope] = g.value_and_slope(u);
    auto residual = value - target;
    auto above = residual > 0;
    hi = torch::where(above, u, hi);
    lo = torch::where(above, lo, u);
    // For coefficients from `coefficients`, g' >= min_slope > 0; a NaN or
    // infinite step (g' = 0) fails the bracket test and bisects.
    auto newton = u - residual / slope;
    auto next = torch::where((newton >= lo) & (newton <= hi), newton, (lo + hi) / 2);
    const bool moving =
        (((next - u).abs() > tolerance) & (residual.abs() > noise)).any().item<bool>();
    u = next;
    if (!moving) return {u.to(t.scalar_type()), iteration};
  }
  return {u.to(t.scalar_type()), max_iterations};
}

Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse,
             const BernsteinOptions& options) {
  const std::string where = "bernstein::apply";
  const char* input = inverse ? "y" : "x";
  check_floating(x, input, where);
  const int64_t order = order_of(params, options, where);
  options.validate(order, where);
  check_same_dtype_device(params, "params", x, input, where);
  const auto shape = broadcast_with_parameters(x, params, where);

  // Everything is computed in float64: the log-space basis of a float32 input
  // would lose about M float32 roundings of accuracy.
  const Polynomial g(coefficients(params.to(torch::kFloat64), options));
  const auto& theta = g.theta;
  auto t = x.to(torch::kFloat64).expand(shape);
  // x = offset + scale u maps the polynomial's [0, 1] to the x axis.
  const double bound = options.bound;
  const double scale = bounded(options) ? 2 * bound : 1;
  const double offset = bounded(options) ? -bound : 0;
  const double tolerance = options.tolerance > 0
                               ? options.tolerance
                               : (x.scalar_type() == torch::kFloat64 ? 1e-12 : 1e-6);
  auto first = theta.select(-1, 0), last = theta.select(-1, order);
  auto slope0 = order * (theta.select(-1, 1) - first);
  auto slope1 = order * (last - theta.select(-1, order - 1));
  torch::Tensor output, log_det, inside, tail, tail_log_det;
  if (!inverse) {
    auto u = (t - offset) / scale;
    inside = (u >= 0) & (u <= 1);
    auto clamped = u.clamp(0, 1);
    auto [value, slope] = g.value_and_slope(clamped);
    output = offset + scale * value;
    log_det = torch::log(slope);
    if (bounded(options)) {
      tail = t;
    } else {
      tail = torch::where(u < 0, first + slope0 * u, last + slope1 * (u - 1));
      tail_log_det = torch::log(torch::where(u < 0, slope0, slope1));
    }
  } else {
    auto v = (t - offset) / scale;  // the value of g sought
    inside = (v >= first) & (v <= last);
    // v itself on the bounds (where, not min / max, whose derivative at a tie
    // is split between the two arguments).
    auto target = torch::where(v > last, last, torch::where(v < first, first, v));
    auto root = solve(target, theta, tolerance / scale, options.max_iterations).u;
    // One Newton step with gradients: at the root it moves nothing, and its
    // derivatives are those of g^-1 with respect to the target and theta.
    auto [value, slope] = g.value_and_slope(root);
    auto u = root - (value - target) / slope;
    output = offset + scale * u;
    log_det = -torch::log(g.slope(u));
    if (bounded(options)) {
      tail = t;
    } else {
      auto below = v < first;
      tail = torch::where(below, (v - first) / slope0, 1 + (v - last) / slope1);
      tail_log_det = -torch::log(torch::where(below, slope0, slope1));
    }
  }
  if (!tail_log_det.defined()) tail_log_det = torch::zeros_like(t);
  return {torch::where(inside, output, tail).to(x.scalar_type()),
          torch::where(inside, log_det, tail_log_det).to(x.scalar_type())};
}

}  // namespace diffeo::bernstein

namespace diffeo {

// Checks the arguments before the members that depend on them are built.
static std::vector<int64_t> params_shape(int64_t order, std::vector<int64_t> shape,
                                         const bernstein::BernsteinOptions& options) {
  const std::string where = "BernsteinPolynomial";
  options.validate(order, where);
  for (auto size : shape) check_positive(size, "shape", where);
  shape.push_back(bernstein::parameter_count(order, options));
  return shape;
}

BernsteinPolynomialImpl::BernsteinPolynomialImpl(int64_t order, std::vector<int64_t> shape,
                                                 bernstein::BernsteinOptions options,
                                                 bool learnable)
    : BijectorImpl(0),
      order_(order),
      options_(options),
      params_(register_value(*this, "params", torch::zeros(params_shape(order, shape, options)),
                             learnable)) {
  set_parameter_shape(shape);
}

Result BernsteinPolynomialImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return bernstein::apply(x, params_, /*inverse=*/false, options_);
}

Result BernsteinPolynomialImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return bernstein::apply(y, params_, /*inverse=*/true, options_);
}

}  // namespace diffeo
