#pragma once
// Increasing Bernstein polynomials (Sick et al. 2020, "Deep transformation
// models"; Arpogaus et al. 2022, "Bernstein-polynomial normalizing flows"): the
// maths as free functions, used by BernsteinPolynomial and BernsteinTransform.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "diffeo/bijectors/bijector.h"

namespace diffeo::bernstein {

/// How unconstrained parameters become an increasing map of R built on a
/// polynomial g(u) = sum_{i=0..M} theta_i C(M, i) u^i (1 - u)^(M - i) on [0, 1].
///
/// bound == 0 (default), the plain polynomial: f(x) = g(x) on [0, 1], continued
/// linearly outside with the value and slope g has at 0 and 1; M + 1 parameters.
/// bound = B > 0, the bounded polynomial: f(x) = -B + 2B g((x + B) / 2B) on
/// [-B, B] with g(0) = 0, g(1) = 1 and g'(0) = g'(1) = 1, the identity outside;
/// M - 2 parameters (a softmax, so one of them is redundant).  In both g' >= min_slope on [0, 1].
///
/// The inverse solves g(u) = t by Newton's method safeguarded by bisection and
/// stops once every element's last step is at most `tolerance` (in units of x;
/// 0 means 1e-12 for float64 inputs and 1e-6 for others) or its residual is at
/// the rounding level of g, or after max_iterations.  validate() checks 0 <= bound < inf, 0 <
/// min_slope < 1, 0 <= tolerance < inf, max_iterations >= 1 and the order (1 to kMaxOrder, at
/// least 4 when bounded: order 3 would leave it no freedom), throwing diffeo::Error otherwise.
struct BernsteinOptions {
  /// The largest order: beyond it the basis' binomial coefficients overflow double.
  static constexpr int64_t kMaxOrder = 1000;
  double bound = 0.0;
  double min_slope = 1e-3;
  double tolerance = 0.0;
  int64_t max_iterations = 100;

  /// Throws diffeo::Error, starting with `where`, if the options do not suit `order`.
  void validate(int64_t order, const std::string& where = "bernstein::apply") const;
};

/// The number of unconstrained parameters of an order-M polynomial: M + 1, or
/// M - 2 when options.bound > 0.  Throws diffeo::Error for a bad order or options.
int64_t parameter_count(int64_t order, const BernsteinOptions& options = {});

/// The increasing coefficients theta, shape P + [M + 1], from unconstrained
/// `params` of shape P + [parameter_count(M)].  Plain: theta_0 = a_0 and
/// theta_i - theta_{i-1} = (1 + (1 - min_slope)(softplus(a_i) / log 2 - 1)) / M.
/// Bounded: theta_0 = 0, theta_M = 1, the first and last differences 1 / M and
/// the M - 2 others (1 - 2 / M) (s + (1 - (M - 2) s) softmax(a)) with
/// s = min_slope / (M - 2).  Zero params give theta_i = i / M: g(u) = u, and
/// f is the identity on R.
torch::Tensor coefficients(const torch::Tensor& params, const BernsteinOptions& options = {});

/// g(u) for u in [0, 1] (clamped into it) and coefficients theta [..., M + 1]
/// whose leading dimensions broadcast with u's shape.  Computed in float64 in
/// log space (log C(M, i) + i log u + (M - i) log(1 - u)), which is stable for M
/// in the hundreds, and returned in u's dtype.
torch::Tensor value(const torch::Tensor& u, const torch::Tensor& theta);

/// g'(u) = M sum_{i<M} (theta_{i+1} - theta_i) C(M - 1, i) u^i (1 - u)^(M - 1 - i),
/// as `value` computes g.
torch::Tensor derivative(const torch::Tensor& u, const torch::Tensor& theta);

/// The root u in [0, 1] of g(u) = t, with t clamped into [g(0), g(1)], and the
/// number of iterations it took.  Each iteration keeps a bracket [lo, hi] per
/// element, takes a Newton step and bisects where the step leaves the bracket;
/// an element is done when its step is at most `tolerance` or its residual is
/// within 4 (M + 1) eps max(1, |theta_0|, |theta_M|), the rounding level of g,
/// and the loop stops when all are done or after `max_iterations`.  No gradient flows: `apply` adds
/// one differentiable Newton step to the root.
struct Root {
  torch::Tensor u;
  int64_t iterations;
};
Root solve(const torch::Tensor& t, const torch::Tensor& theta, double tolerance,
           int64_t max_iterations);

/// The map y = f(x) elementwise (inverse = false) or x = f^-1(y) (inverse =
/// true), with log|dy/dx| or log|dx/dy| per element.  `x` has any shape S;
/// `params` has shape P + [parameter_count(M)], the unconstrained values a
/// conditioner outputs, with P broadcasting against S; M is read from
/// params.size(-1).  The inverse returns the root found by `solve` after one
/// more Newton step taken with gradients, so that by the implicit function
/// theorem the gradients of x with respect to y and params are those of the
/// exact inverse.  Throws diffeo::Error for a params size that fits no order,
/// bad options, shapes that do not broadcast, or x and params of different
/// dtypes or devices.
Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse,
             const BernsteinOptions& options = {});

}  // namespace diffeo::bernstein

namespace diffeo {

/// A learnable elementwise Bernstein polynomial of order M (see
/// bernstein::apply): forward y = f(x), inverse by root finding.  Its
/// unconstrained parameters `params`, of shape shape + [M + 1] (or
/// shape + [M - 2] when options.bound > 0), start at zero, which is the
/// identity map.  `shape` is the parameter shape ({} for one polynomial shared
/// by all coordinates, {D} for one per coordinate); inputs must end in
/// dimensions it broadcasts into.  Event rank 0; lift it to vectors with Block.
class BernsteinPolynomialImpl : public BijectorImpl {
 public:
  explicit BernsteinPolynomialImpl(int64_t order, std::vector<int64_t> shape = {},
                                   bernstein::BernsteinOptions options = {}, bool learnable = true);

  /// The unconstrained parameters, shape + [parameter_count(order)].
  torch::Tensor params() const { return params_; }
  int64_t order() const { return order_; }
  const bernstein::BernsteinOptions& options() const { return options_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  int64_t order_;
  bernstein::BernsteinOptions options_;
  torch::Tensor params_;
};
TORCH_MODULE(BernsteinPolynomial);

}  // namespace diffeo
