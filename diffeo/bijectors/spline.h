#pragma once
// The monotonic rational-quadratic spline of Durkan et al. 2019, "Neural Spline
// Flows", as free functions: the maths behind RationalQuadraticSpline and the
// spline couplings and autoregressive layers, which feed it conditioner outputs.

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "diffeo/bijectors/bijector.h"

namespace diffeo::spline {

/// How unnormalised parameters become a spline.  K bins cover [-bound, bound];
/// outside it the map is the identity.  Each bin keeps at least min_bin_width
/// (min_bin_height) of the total width (height), and every interior knot a
/// slope of at least min_derivative.  validate() checks 0 < bound < inf,
/// 0 < min_bin_width * K < 1, 0 < min_bin_height * K < 1 and
/// 0 < min_derivative < 1 (diffeo::Error otherwise).
struct SplineOptions {
  double bound = 3.0;
  double min_bin_width = 1e-3;
  double min_bin_height = 1e-3;
  double min_derivative = 1e-3;

  /// Throws diffeo::Error, starting with `where`, if the options do not suit K = `bins`.
  void validate(int64_t bins, const std::string& where = "spline::rational_quadratic") const;
};

/// The number of unnormalised values per dimension of a K-bin spline: K widths,
/// K heights and K - 1 interior derivatives, 3K - 1.  Throws for bins < 1.
int64_t parameter_count(int64_t bins);

/// The knots of the splines that `params` (shape P + [3K - 1]) describe, each of
/// shape P + [K + 1]: `x` and `y` run from -bound to bound (both ends exact), and
/// `derivative` holds the slopes at the knots, 1 at both ends.
struct Knots {
  torch::Tensor x;
  torch::Tensor y;
  torch::Tensor derivative;
};
Knots knots(const torch::Tensor& params, const SplineOptions& options = {});

/// The spline y = g(x) elementwise (inverse = false) or its inverse x = g^-1(y)
/// (inverse = true), with log|dy/dx| or log|dx/dy| per element, which are
/// minus each other at matching points and 0 outside [-bound, bound].
///
/// `x` has any shape S; `params` has shape P + [3K - 1], unnormalised values
/// [widths K | heights K | interior derivatives K - 1] such as a conditioner
/// network outputs, with P broadcasting against S (usually P = S); the result
/// has the broadcast shape.  K is read from params.size(-1).  Zero params give
/// the identity: equal bins and unit slopes.  Throws diffeo::Error for a
/// params size that is not 3K - 1, shapes that do not broadcast, or x and
/// params of different dtypes or devices.
Result rational_quadratic(const torch::Tensor& x, const torch::Tensor& params, bool inverse,
                          const SplineOptions& options = {});

}  // namespace diffeo::spline
