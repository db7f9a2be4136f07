#pragma once
// The Fourier-curve benchmark of HINT (Kruse et al., AAAI 2021): a 20-D
// Gaussian-mixture prior on the Fourier coefficients of closed 2-D curves, three
// noisy shape summaries of each curve as the observation, and quantile ABC for
// reference posteriors.  The definitions follow the authors' code
// (VLL-HD/HINT, data.py), except that the angle is folded into [0, pi).

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>

namespace diffeo::data::fourier {

/// Coefficients per curve (the dimension of x): 2 coordinates x 5 frequencies
/// k = -2..2 x (real, imaginary).
inline constexpr int64_t kCoefficients = 20;
/// Summaries per curve (the dimension of y): aspect ratio, circularity, angle.
inline constexpr int64_t kSummaries = 3;
/// Components of the prior's Gaussian mixture.
inline constexpr int64_t kComponents = 5;
/// Points at which a curve is traced, as in the HINT code.
inline constexpr int64_t kDefaultPoints = 100;
/// Standard deviation of the observation noise, as in the HINT code.
inline constexpr double kDefaultNoise = 0.05;

/// The prior's Gaussian mixture, as float64 CPU tensors: `weights` [5] (summing
/// to 1), `means` and `stds` [5, 20] in the layout of x, so component c is
/// N(means[c], diag(stds[c]^2)).  They are the HINT code's: numpy's
/// RandomState(123) draws weights = 0.5 + rand(5) (then normalised), the means
/// 0.5 * randn(2, 5, 2) for each component in turn, then the stds
/// 0.1 + 0.2 * rand(2, 5, 2) for each component; reproduced here to rounding.
struct PriorParameters {
  torch::Tensor weights, means, stds;
};

/// A fresh copy of the prior's parameters (cheap: 205 numbers).
PriorParameters prior_parameters();

/// n draws from the prior, [n, 20] of `dtype` on the CPU, reproducible for a
/// seeded generator (an undefined generator uses LibTorch's global one).
/// Layout of a row x: x[5 d + k + 2] = Re c_{d,k} and x[10 + 5 d + k + 2] =
/// Im c_{d,k} for coordinate d in {0, 1} and frequency k in {-2, ..., 2}.
/// Throws diffeo::Error unless n > 0.
torch::Tensor sample_prior(int64_t n, at::Generator generator = {},
                           torch::Dtype dtype = torch::kFloat32);

/// The prior's normalised log density, [..., 20] -> [...], in x's dtype and
/// device.  Throws diffeo::Error for a non-floating x or a last size other than 20.
torch::Tensor log_prior(const torch::Tensor& x);

/// The curves of x [..., 20] traced at `points` parameter values
/// t_j = j / (points - 1), j = 0..points-1, as [..., points, 2]: coordinate d is
/// c_d(t) = Re sum_{k=-2..2} c_{d,k} exp(2 pi i k t)
///        = sum_k Re c_{d,k} cos(2 pi k t) - Im c_{d,k} sin(2 pi k t).
/// As in the HINT code (numpy's linspace(0, 1, points)) the last point repeats
/// the first, so the closed polygon has points - 1 distinct vertices.  Computed
/// in x's dtype and device, differentiable in x.  Throws diffeo::Error for a
/// non-floating x, a last size other than 20 or points < 4.
torch::Tensor trace_curves(const torch::Tensor& x, int64_t points = kDefaultPoints);

/// The noiseless summaries of the curves of x [..., 20] traced at `points`
/// points (see trace_curves), [..., 3]: with the largest diameter D = |p_j - p_i|
/// of a pair of traced points farthest apart (an exact search over all pairs),
///   0: aspect ratio W / D, W the extent of the points perpendicular to p_j - p_i;
///   1: circularity 4 pi A / P^2, A the absolute shoelace area and P the
///      perimeter of the closed polygon of the points;
///   2: the angle of p_j - p_i folded into [0, pi) (the HINT code keeps the
///      direction, atan2 in (-pi, pi]; a diameter has no direction).
/// Rows are processed in blocks so that 1e6 curves need little memory.  A curve
/// whose points all coincide gives NaN.  Differentiable in x almost everywhere
/// (the farthest pair is chosen without gradient).  Throws as trace_curves does.
torch::Tensor summaries(const torch::Tensor& x, int64_t points = kDefaultPoints);

/// The observation y = summaries(x, points) + noise * N(0, I), [..., 3]: the
/// forward process of the benchmark.  The noise is drawn with `generator` (an
/// undefined one uses LibTorch's global generator) on the CPU and moved to x's
/// device.  Throws as trace_curves does, and for a negative or non-finite noise.
torch::Tensor observe(const torch::Tensor& x, at::Generator generator = {},
                      double noise = kDefaultNoise, int64_t points = kDefaultPoints);

/// The rows of a set of observations nearest to a target, nearest first:
/// `indices` [keep] (int64) into the set and their Euclidean `distances` [keep]
/// (in the set's dtype); the last distance is quantile ABC's tolerance.
struct Nearest {
  torch::Tensor indices, distances;
};

/// The `keep` rows of prior_y [N, m] nearest to y_star [m] in Euclidean
/// distance (one topk, no sort of all N).  Ties are broken arbitrarily.
/// Throws diffeo::Error for mismatched sizes, non-finite values or keep outside 1..N.
Nearest nearest_observations(const torch::Tensor& y_star, const torch::Tensor& prior_y,
                             int64_t keep);

/// Quantile (rejection) ABC: the `keep` rows of prior_x [N, ...] whose
/// observations prior_y [N, m] lie nearest to y_star [m], nearest first; the
/// reference posterior p(x | y_star) when (prior_x, prior_y) are joint draws
/// (x from the prior, y = observe(x)).  The distance is Euclidean and not
/// standardised: the noise is isotropic in y, so this neighbourhood has the
/// likelihood's shape.  Works for any simulator, not only Fourier curves.
/// Throws as nearest_observations does, and when prior_x and prior_y differ in
/// their number of rows.
torch::Tensor abc_posterior(const torch::Tensor& y_star, const torch::Tensor& prior_x,
                            const torch::Tensor& prior_y, int64_t keep);

/// Quantile-ABC references for several observations from one stream of prior
/// draws: `x` [K, keep, 20], the prior draws nearest to each y_star in y,
/// nearest first, and `tolerance` [K], the distance of each one's last kept draw.
struct AbcReferences {
  torch::Tensor x, tolerance;
};

/// abc_posterior for every row of y_stars [K, 3] over `draws` prior draws
/// made chunk by chunk (each chunk `sample_prior(rows, generator)` then
/// `observe(x, generator)`, float32), so that 1e8 draws need the memory of one
/// chunk and the running nearest `keep` per observation: equal to
/// abc_posterior on the concatenated chunks.  Throws diffeo::Error for
/// y_stars not [K, 3] or not finite, keep outside 1..draws, or chunk < 1.
AbcReferences abc_posteriors(const torch::Tensor& y_stars, int64_t draws, int64_t keep,
                             at::Generator generator, int64_t chunk = 1 << 20);

}  // namespace diffeo::data::fourier
