#include "diffeo/data/fourier_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo::data::fourier {

namespace {

constexpr int64_t kFrequencies = 5;  // k = -2..2
// Point pairs per block of summaries (about 100 curves of 100 points), so that the
// per-operator overhead is shared by many curves.
constexpr int64_t kBlockPairs = int64_t{1} << 20;
// Point pairs per pass of the farthest-pair search: the distance buffers stay
// at 512 KB in float32 (13 curves of 100 points), small enough for the cache.
constexpr int64_t kPairBudget = int64_t{1} << 17;

// numpy's legacy RandomState stream, which made the HINT code's prior: MT19937
// seeded like std::mt19937, doubles with 53 random bits from two draws, and
// polar-method Gaussians made in pairs (the second kept for the next call).
class NumpyLegacyStream {
 public:
  explicit NumpyLegacyStream(uint32_t seed) : engine_(seed) {}

  double uniform() {
    const double high = static_cast<double>(engine_() >> 5);
    const double low = static_cast<double>(engine_() >> 6);
    return (high * 67108864.0 + low) / 9007199254740992.0;
  }

  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, r2;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      r2 = u * u + v * v;
    } while (r2 >= 1 || r2 == 0);
    const double f = std::sqrt(-2 * std::log(r2) / r2);
    spare_ = f * u;
    has_spare_ = true;
    return f * v;
  }

 private:
  std::mt19937 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Column of x that holds element e of a numpy array of HINT's coefficient shape
// (2, 5, 2) = (coordinate, frequency, real/imaginary), read in C order.
int64_t column_of(int64_t e) { return (e % 2) * 2 * kFrequencies + e / 2; }

void check_coefficients(const torch::Tensor& x, const std::string& where) {
  check_event_shape(x, "x", 1, {kCoefficients}, where);
}

void check_points(int64_t points, const std::string& where) {
  if (points < 4)
    throw Error(where + ": argument 'points' must be at least 4 (3 distinct points of a closed " +
                "curve), got " + std::to_string(points));
}

// [10, points]: cos(2 pi k t_j) for k = -2..2, then -sin(2 pi k t_j), so that a
// coordinate's [Re c_k..., Im c_k...] times it is Re sum_k c_k exp(2 pi i k t).
torch::Tensor basis(int64_t points, const torch::TensorOptions& options) {
  const auto t = torch::arange(points, torch::kFloat64) / static_cast<double>(points - 1);
  const auto k = torch::arange(-2, 3, torch::kFloat64);
  const auto phase = 2 * M_PI * k.unsqueeze(1) * t.unsqueeze(0);
  return torch::cat({phase.cos(), -phase.sin()}, 0).to(options);
}

// x [..., 20] -> the traced coordinates [..., 2, points].
torch::Tensor coordinates(const torch::Tensor& x, const torch::Tensor& basis) {
  auto split = x.sizes().vec();
  split.back() = 2;  // [..., real/imaginary, coordinate, frequency]
  split.push_back(2);
  split.push_back(kFrequencies);
  auto per_coordinate = x.sizes().vec();
  per_coordinate.back() = 2;
  per_coordinate.push_back(2 * kFrequencies);
  const auto coefficients = x.reshape(split).transpose(-3, -2).reshape(per_coordinate);
  return torch::matmul(coefficients, basis);
}

// Buffers for the squared distances between all pairs of points of a few
// curves, allocated once per call: fresh ones for every pass would page-fault
// (measured: 2-4x slower).
struct PairBuffers {
  torch::Tensor d2, dy, best;
  PairBuffers(int64_t rows, int64_t points, const torch::TensorOptions& options)
      : d2(torch::empty({rows, points, points}, options)),
        dy(torch::empty({rows, points, points}, options)),
        best(torch::empty({rows}, options)) {}
};

// For points px, py [B, P], the flat index i * P + j of a pair farthest apart.
torch::Tensor farthest_pairs(const torch::Tensor& px, const torch::Tensor& py,
                             PairBuffers& buffers) {
  torch::NoGradGuard no_grad;  // a choice; the gradient flows through the chosen points
  const int64_t rows = px.size(0), points = px.size(1), pass = buffers.d2.size(0);
  auto pair = torch::empty({rows}, px.options().dtype(torch::kLong));
  for (int64_t start = 0; start < rows; start += pass) {
    const int64_t n = std::min(pass, rows - start);
    const auto x = px.narrow(0, start, n), y = py.narrow(0, start, n);
    auto d2 = buffers.d2.narrow(0, 0, n), dy = buffers.dy.narrow(0, 0, n);
    auto best = buffers.best.narrow(0, 0, n), found = pair.narrow(0, start, n);
    torch::sub_out(d2, x.unsqueeze(2), x.unsqueeze(1));
    d2.mul_(d2);
    torch::sub_out(dy, y.unsqueeze(2), y.unsqueeze(1));
    d2.addcmul_(dy, dy);
    torch::max_out(best, found, d2.view({n, points * points}), 1);
  }
  return pair;
}

// Summaries of a block of curves, x [B, 20] -> [B, 3].
torch::Tensor block_summaries(const torch::Tensor& x, const torch::Tensor& basis,
                              PairBuffers& buffers) {
  // Centred: no summary sees a translation, and float32 areas lose less to cancellation.
  auto curve = coordinates(x, basis);  // [B, 2, P]
  curve = curve - curve.mean(2, /*keepdim=*/true);
  const auto px = curve.select(1, 0), py = curve.select(1, 1);
  const int64_t rows = curve.size(0), points = curve.size(2);
  const auto pair = farthest_pairs(px, py, buffers);
  const auto i = pair.div(points, "floor").view({rows, 1, 1}).expand({rows, 2, 1});
  const auto j = pair.remainder(points).view({rows, 1, 1}).expand({rows, 2, 1});
  const auto v = (curve.gather(2, j) - curve.gather(2, i)).squeeze(2);  // [B, 2]
  const auto vx = v.select(1, 0), vy = v.select(1, 1);
  const auto diameter2 = vx.square() + vy.square();
  // |v| times each point's coordinate perpendicular to v.
  const auto across = px * vy.unsqueeze(1) - py * vx.unsqueeze(1);
  const auto aspect = (across.amax(1) - across.amin(1)) / diameter2;
  auto angle = torch::atan2(vy, vx);
  angle = torch::where(angle < 0, angle + M_PI, angle);
  angle = torch::where(angle >= M_PI, angle - M_PI, angle);  // pi itself, after rounding
  // The last traced point repeats the first, so the segments j -> j + 1 close the polygon.
  const auto x0 = px.narrow(1, 0, points - 1), y0 = py.narrow(1, 0, points - 1);
  const auto x1 = px.narrow(1, 1, points - 1), y1 = py.narrow(1, 1, points - 1);
  const auto area = 0.5 * (x0 * y1 - x1 * y0).sum(1).abs();
  const auto perimeter = ((x1 - x0).square() + (y1 - y0).square()).sqrt().sum(1);
  const auto circularity = 4 * M_PI * area / perimeter.square();
  return torch::stack({aspect, circularity, angle}, 1);
}

torch::Tensor summaries_unchecked(const torch::Tensor& x, int64_t points) {
  auto shape = x.sizes().vec();
  shape.back() = kSummaries;
  const auto flat = x.reshape({-1, kCoefficients});
  if (flat.size(0) == 0) return torch::empty(shape, x.options());
  const auto b = basis(points, x.options());
  const int64_t pairs = points * points;
  const int64_t rows = std::min(flat.size(0), std::max<int64_t>(1, kBlockPairs / pairs));
  PairBuffers buffers(std::min(rows, std::max<int64_t>(1, kPairBudget / pairs)), points,
                      x.options());
  return in_chunks(flat.size(0), rows,
                   [&](int64_t start, int64_t n) {
                     return block_summaries(flat.narrow(0, start, n), b, buffers);
                   })
      .reshape(shape);
}

Nearest nearest_checked(const torch::Tensor& y_star, const torch::Tensor& prior_y, int64_t keep,
                        const std::string& where) {
  check_floating(prior_y, "prior_y", where);
  if (prior_y.dim() != 2)
    throw Error(where + ": argument 'prior_y' must have shape [N, m], got shape " +
                shape_string(prior_y.sizes()));
  check_floating(y_star, "y_star", where);
  if (y_star.dim() != 1 || y_star.size(0) != prior_y.size(1))
    throw Error(where + ": argument 'y_star' must have shape [" + std::to_string(prior_y.size(1)) +
                "] like a row of 'prior_y', got shape " + shape_string(y_star.sizes()));
  if (keep < 1 || keep > prior_y.size(0))
    throw Error(where + ": argument 'keep' must be in 1.." + std::to_string(prior_y.size(0)) +
                " (the rows of 'prior_y'), got " + std::to_string(keep));
  check_finite(y_star, "y_star", where);
  check_finite(prior_y, "prior_y", where);
  const auto d2 = (prior_y - y_star.to(prior_y.options())).square().sum(1);
  const auto nearest = d2.topk(keep, 0, /*largest=*/false, /*sorted=*/true);
  return {std::get<1>(nearest), std::get<0>(nearest).sqrt()};
}

}  // namespace

PriorParameters prior_parameters() {
  NumpyLegacyStream stream(123);
  std::vector<double> weights(kComponents);
  for (auto& w : weights) w = 0.5 + stream.uniform();
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (auto& w : weights) w /= total;
  auto means = torch::empty({kComponents, kCoefficients}, torch::kFloat64);
  auto stds = torch::empty({kComponents, kCoefficients}, torch::kFloat64);
  auto m = means.accessor<double, 2>();
  auto s = stds.accessor<double, 2>();
  for (int64_t c = 0; c < kComponents; ++c)
    for (int64_t e = 0; e < kCoefficients; ++e) m[c][column_of(e)] = 0.5 * stream.normal();
  for (int64_t c = 0; c < kComponents; ++c)
    for (int64_t e = 0; e < kCoefficients; ++e) s[c][column_of(e)] = 0.1 + 0.2 * stream.uniform();
  return {torch::tensor(weights, torch::kFloat64), means, stds};
}

torch::Tensor sample_prior(int64_t n, at::Generator generator, torch::Dtype dtype) {
  const std::string where = "fourier::sample_prior";
  check_positive(n, "n", where);
  if (!c10::isFloatingType(dtype))
    throw Error(where + ": argument 'dtype' must be a floating-point type, got " +
                std::string(c10::toString(dtype)));
  const auto prior = prior_parameters();
  const auto component = torch::multinomial(prior.weights, n, /*replacement=*/true, generator);
  const auto noise = torch::randn({n, kCoefficients}, generator, dtype);
  return prior.means.index_select(0, component).to(dtype) +
         prior.stds.index_select(0, component).to(dtype) * noise;
}

torch::Tensor log_prior(const torch::Tensor& x) {
  check_coefficients(x, "fourier::log_prior");
  const auto prior = prior_parameters();
  const auto means = prior.means.to(x.options()), stds = prior.stds.to(x.options());
  const auto z = (x.unsqueeze(-2) - means) / stds;  // [..., components, 20]
  const auto log_normal =
      -0.5 * z.square().sum(-1) - stds.log().sum(-1) - 0.5 * kCoefficients * std::log(2 * M_PI);
  return torch::logsumexp(log_normal + prior.weights.log().to(x.options()), -1);
}

torch::Tensor trace_curves(const torch::Tensor& x, int64_t points) {
  check_coefficients(x, "fourier::trace_curves");
  check_points(points, "fourier::trace_curves");
  return coordinates(x, basis(points, x.options())).transpose(-1, -2).contiguous();
}

torch::Tensor summaries(const torch::Tensor& x, int64_t points) {
  check_coefficients(x, "fourier::summaries");
  check_points(points, "fourier::summaries");
  return summaries_unchecked(x, points);
}

torch::Tensor observe(const torch::Tensor& x, at::Generator generator, double noise,
                      int64_t points) {
  const std::string where = "fourier::observe";
  check_coefficients(x, where);
  check_points(points, where);
  if (!std::isfinite(noise) || noise < 0)
    throw Error(where + ": argument 'noise' must be finite and >= 0, got " + number_string(noise));
  const auto y = summaries_unchecked(x, points);
  return y + noise * torch::randn(y.sizes(), generator, y.scalar_type()).to(y.device());
}

Nearest nearest_observations(const torch::Tensor& y_star, const torch::Tensor& prior_y,
                             int64_t keep) {
  return nearest_checked(y_star, prior_y, keep, "fourier::nearest_observations");
}

torch::Tensor abc_posterior(const torch::Tensor& y_star, const torch::Tensor& prior_x,
                            const torch::Tensor& prior_y, int64_t keep) {
  const std::string where = "fourier::abc_posterior";
  check_defined(prior_x, "prior_x", where);
  check_defined(prior_y, "prior_y", where);
  if (prior_x.dim() < 1 || prior_y.dim() < 1 || prior_x.size(0) != prior_y.size(0))
    throw Error(where + ": arguments 'prior_x' (shape " + shape_string(prior_x.sizes()) +
                ") and 'prior_y' (shape " + shape_string(prior_y.sizes()) +
                ") must have the same number of rows");
  const auto nearest = nearest_checked(y_star, prior_y, keep, where);
  return prior_x.index_select(0, nearest.indices.to(prior_x.device()));
}

AbcReferences abc_posteriors(const torch::Tensor& y_stars, int64_t draws, int64_t keep,
                             at::Generator generator, int64_t chunk) {
  const std::string where = "fourier::abc_posteriors";
  check_floating(y_stars, "y_stars", where);
  if (y_stars.dim() != 2 || y_stars.size(1) != kSummaries || y_stars.size(0) < 1)
    throw Error(where + ": argument 'y_stars' must have shape [K, " + std::to_string(kSummaries) +
                "] with K >= 1, got shape " + shape_string(y_stars.sizes()));
  check_finite(y_stars, "y_stars", where);
  check_positive(draws, "draws", where);
  check_positive(chunk, "chunk", where);
  if (keep < 1 || keep > draws)
    throw Error(where + ": argument 'keep' must be in 1.." + std::to_string(draws) +
                " (the prior draws), got " + std::to_string(keep));
  c10::InferenceMode inference;
  const auto targets = y_stars.to(torch::kFloat32).cpu();
  const int64_t K = targets.size(0);
  // Per observation, the best `keep` so far: squared distances and their x rows.
  std::vector<torch::Tensor> best_d2(K), best_x(K);
  for (int64_t done = 0; done < draws; done += chunk) {
    const int64_t rows = std::min(chunk, draws - done);
    const auto x = sample_prior(rows, generator);
    const auto y = observe(x, generator);
    for (int64_t k = 0; k < K; ++k) {
      // The chunk's nearest `keep` first, so that only those rows are copied,
      // then merged with the best so far.
      const auto in_chunk = (y - targets[k])
                                .square()
                                .sum(1)
                                .topk(std::min(keep, rows), 0, /*largest=*/false, /*sorted=*/true);
      auto d2 = std::get<0>(in_chunk);
      auto candidates_x = x.index_select(0, std::get<1>(in_chunk));
      if (best_d2[k].defined()) {
        const auto merged = torch::cat({best_d2[k], d2}).topk(keep, 0, false, true);
        best_d2[k] = std::get<0>(merged);
        best_x[k] = torch::cat({best_x[k], candidates_x}).index_select(0, std::get<1>(merged));
      } else {
        best_d2[k] = d2;
        best_x[k] = candidates_x;
      }
    }
  }
  auto tolerance = torch::empty({K}, torch::kFloat32);
  for (int64_t k = 0; k < K; ++k) tolerance[k] = best_d2[k][-1].sqrt();
  return {torch::stack(best_x), tolerance};
}

}  // namespace diffeo::data::fourier
