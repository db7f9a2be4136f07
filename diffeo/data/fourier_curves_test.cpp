// The Fourier-curve benchmark: the prior is the HINT code's, the traced curve is
// the real Fourier series, the summaries of circles and ellipses equal their
// closed forms for the traced polygon, the noise has the stated law, and ABC
// keeps exactly the nearest draws.

#include "diffeo/data/fourier_curves.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "diffeo/testing/expect_error.h"

namespace diffeo::data::fourier {
namespace {

using testing::expect_error;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Columns of Re c_{d,k} and Im c_{d,k} in x.
int64_t re(int64_t d, int64_t k) { return 5 * d + k + 2; }
int64_t im(int64_t d, int64_t k) { return 10 + 5 * d + k + 2; }

// The ellipse with semi-axes a >= b whose major axis has angle phi, traced
// counter-clockwise from the end of the major axis, centred at (3, -2).
torch::Tensor ellipse(double a, double b, double phi) {
  auto x = torch::zeros({kCoefficients}, torch::kFloat64);
  x[re(0, 1)] = a * std::cos(phi);
  x[im(0, 1)] = b * std::sin(phi);
  x[re(1, 1)] = a * std::sin(phi);
  x[im(1, 1)] = -b * std::cos(phi);
  x[re(0, 0)] = 3;
  x[re(1, 0)] = -2;
  x[im(0, 0)] = 7;  // Re of i * 7 is 0: no effect on the curve
  return x;
}

// The distance between two angles of undirected lines (modulo pi).
double line_angle_distance(double a, double b) {
  const double d = std::fmod(std::abs(a - b), M_PI);
  return std::min(d, M_PI - d);
}

TEST(FourierCurves, PriorParametersAreTheHintCodes) {
  // Values printed by numpy's RandomState(123) recipe of the HINT code (an
  // independent Python implementation of the stream, checked against numpy's
  // RandomState(0): rand() = 0.5488135039273248, randn() = 1.764052345967664).
  const auto p = prior_parameters();
  const std::vector<double> weights = {0.240243099444971, 0.15785157921113865, 0.14594696473782606,
                                       0.21109705260862272, 0.2448613039974416};
  ASSERT_EQ(p.weights.sizes(), torch::IntArrayRef({5}));
  for (int64_t c = 0; c < 5; ++c) EXPECT_NEAR(p.weights[c].item<double>(), weights[c], 1e-16);
  ASSERT_EQ(p.means.sizes(), torch::IntArrayRef({5, 20}));
  ASSERT_EQ(p.stds.sizes(), torch::IntArrayRef({5, 20}));
  // numpy element [d, k + 2, part] of component c goes to column part * 10 + 5 d + k + 2.
  EXPECT_NEAR(p.means[0][re(0, -2)].item<double>(), 0.16105303416981082, 1e-15);
  EXPECT_NEAR(p.means[0][im(0, -2)].item<double>(), -0.02575886046969255, 1e-15);
  EXPECT_NEAR(p.means[0][re(0, -1)].item<double>(), -0.10210048231944734, 1e-15);
  EXPECT_NEAR(p.means[4][im(1, 2)].item<double>(), -0.4870117408538689, 1e-15);
  EXPECT_NEAR(p.stds[0][re(0, -2)].item<double>(), 0.1708529351183357, 1e-15);
  EXPECT_NEAR(p.stds[2][re(1, 0)].item<double>(), 0.2629687405786819, 1e-15);
  EXPECT_NEAR(p.stds[4][im(1, 2)].item<double>(), 0.2584598603689181, 1e-15);
  EXPECT_NEAR(p.weights.sum().item<double>(), 1.0, 1e-15);
  EXPECT_GE(p.stds.min().item<double>(), 0.1);
  EXPECT_LE(p.stds.max().item<double>(), 0.3);
}

TEST(FourierCurves, PriorSamplesHaveTheMixturesMoments) {
  const int64_t n = 40000;
  const auto x = sample_prior(n, seeded(3), torch::kFloat64);
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({n, 20}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat64);
  const auto p = prior_parameters();
  const auto w = p.weights.unsqueeze(1);
  const auto mean = (w * p.means).sum(0);
  const auto variance = (w * (p.stds.square() + p.means.square())).sum(0) - mean.square();
  const auto z = (x.mean(0) - mean) / (variance / n).sqrt();
  EXPECT_LT(z.abs().max().item<double>(), 4.5);
  EXPECT_LT((x.var(0) / variance - 1).abs().max().item<double>(), 0.05);
  // Reproducible for a seed; float32 by default.
  const auto again = sample_prior(5, seeded(9));
  EXPECT_EQ(again.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(again, sample_prior(5, seeded(9))));
  EXPECT_FALSE(torch::equal(again, sample_prior(5, seeded(10))));
  expect_error([] { sample_prior(0); }, {"fourier::sample_prior", "'n'", "positive", "0"});
  expect_error([] { sample_prior(3, {}, torch::kLong); },
               {"fourier::sample_prior", "'dtype'", "floating"});
}

TEST(FourierCurves, LogPriorIsTheMixtureDensity) {
  const auto x = sample_prior(4, seeded(1), torch::kFloat64);
  const auto lp = log_prior(x);
  const auto p = prior_parameters();
  for (int64_t r = 0; r < 4; ++r) {
    double density = 0;
    for (int64_t c = 0; c < kComponents; ++c) {
      double term = p.weights[c].item<double>();
      for (int64_t j = 0; j < kCoefficients; ++j) {
        const double s = p.stds[c][j].item<double>();
        const double z = (x[r][j].item<double>() - p.means[c][j].item<double>()) / s;
        term *= std::exp(-0.5 * z * z) / (s * std::sqrt(2 * M_PI));
      }
      density += term;
    }
    EXPECT_NEAR(lp[r].item<double>(), std::log(density), 1e-10) << r;
  }
  // Any batch shape; float32 agrees to float32 precision.
  EXPECT_EQ(log_prior(torch::zeros({2, 3, 20})).sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(
      torch::allclose(log_prior(x.to(torch::kFloat32)).to(torch::kFloat64), lp, 1e-5, 1e-4));
  expect_error(
      [] {
        log_prior(torch::zeros({4, 19}));
      },
      {"fourier::log_prior", "'x'", "event size 19", "event size 20"});
}

TEST(FourierCurves, TraceIsTheRealFourierSeries) {
  const auto x = torch::randn({3, 20}, seeded(4), torch::kFloat64);
  const int64_t points = 7;
  const auto curve = trace_curves(x, points);
  ASSERT_EQ(curve.sizes(), torch::IntArrayRef({3, points, 2}));
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t j = 0; j < points; ++j)
      for (int64_t d = 0; d < 2; ++d) {
        const double t = static_cast<double>(j) / (points - 1);
        double value = 0;
        for (int64_t k = -2; k <= 2; ++k)
          value += x[r][re(d, k)].item<double>() * std::cos(2 * M_PI * k * t) -
                   x[r][im(d, k)].item<double>() * std::sin(2 * M_PI * k * t);
        EXPECT_NEAR(curve[r][j][d].item<double>(), value, 1e-12) << r << " " << j << " " << d;
      }
  // The last point closes the curve; any batch shape.
  EXPECT_TRUE(torch::allclose(curve.select(1, points - 1), curve.select(1, 0), 0, 1e-12));
  EXPECT_EQ(trace_curves(torch::zeros({2, 3, 20})).sizes(), torch::IntArrayRef({2, 3, 100, 2}));
  expect_error(
      [] {
        trace_curves(torch::zeros({5, 19}));
      },
      {"fourier::trace_curves", "'x'", "event size 19", "event size 20"});
  expect_error(
      [] {
        trace_curves(torch::zeros({5, 20}), 3);
      },
      {"fourier::trace_curves", "'points'", "at least 4", "got 3"});
  expect_error(
      [] {
        trace_curves(torch::zeros({5, 20}, torch::kLong));
      },
      {"fourier::trace_curves", "'x'", "floating-point"});
}

TEST(FourierCurves, CircleSummariesAreThoseOfTheRegularPolygon) {
  // 100 traced points are a regular 99-gon: its longest diagonal spans 49 of
  // 99 steps (2 r cos(pi / 198)) and its width across it is r (1 + cos(pi / 99)),
  // so the aspect ratio is cos(pi / 198); circularity (pi / N) / tan(pi / N).
  const double r = 1.5;
  auto counter_clockwise = ellipse(r, r, 0);
  auto clockwise = counter_clockwise.clone();
  clockwise[im(1, 1)] = r;
  auto negative_frequency = torch::zeros({20}, torch::kFloat64);  // the same circle from k = -1
  negative_frequency[re(0, -1)] = r;
  negative_frequency[im(1, -1)] = r;
  const auto y = summaries(torch::stack({counter_clockwise, clockwise, negative_frequency}));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(y[i][0].item<double>(), std::cos(M_PI / 198), 1e-12) << i;
    EXPECT_NEAR(y[i][1].item<double>(), (M_PI / 99) / std::tan(M_PI / 99), 1e-12) << i;
  }
  // With an even number of distinct points the polygon's width equals its diameter.
  const auto even = summaries(counter_clockwise, 101);
  EXPECT_NEAR(even[0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(even[1].item<double>(), (M_PI / 100) / std::tan(M_PI / 100), 1e-12);
}

TEST(FourierCurves, EllipseSummariesAreExactAtTheVertices) {
  // 101 points put vertices on both ends of both axes, so the largest diameter
  // is the major axis and the width across it the minor axis.  The polygon is
  // the affine image of a regular 100-gon: area a b 50 sin(2 pi / 100).
  const double a = 2, b = 0.5;
  for (const double phi : {0.0, 0.3, 2.0, 3.0}) {
    const auto y = summaries(ellipse(a, b, phi), 101);
    EXPECT_NEAR(y[0].item<double>(), b / a, 1e-12) << phi;
    EXPECT_LT(line_angle_distance(y[2].item<double>(), phi), 1e-12) << phi;
    EXPECT_GE(y[2].item<double>(), 0);
    EXPECT_LT(y[2].item<double>(), M_PI);
    double perimeter = 0;
    for (int j = 0; j < 100; ++j) {
      const double t0 = 2 * M_PI * j / 100, t1 = 2 * M_PI * (j + 1) / 100;
      perimeter += std::hypot(a * (std::cos(t1) - std::cos(t0)), b * (std::sin(t1) - std::sin(t0)));
    }
    const double area = a * b * 50 * std::sin(2 * M_PI / 100);
    EXPECT_NEAR(y[1].item<double>(), 4 * M_PI * area / (perimeter * perimeter), 1e-12) << phi;
  }
}

TEST(FourierCurves, SummariesOfPriorCurvesAreInRangeAndBlockwiseExact) {
  // 300 curves span three blocks of 104 (and passes of 13); each row's summaries equal
  // those of the row alone.
  const auto x = sample_prior(300, seeded(5), torch::kFloat64);
  const auto y = summaries(x);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({300, 3}));
  for (const int64_t r : {0, 12, 13, 103, 104, 299})
    EXPECT_TRUE(torch::allclose(y[r], summaries(x[r]), 0, 1e-12)) << r;
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  const auto aspect = y.select(1, 0), circularity = y.select(1, 1), angle = y.select(1, 2);
  EXPECT_GT(aspect.min().item<double>(), 0);
  EXPECT_LE(aspect.max().item<double>(), 1);
  EXPECT_GT(circularity.min().item<double>(), 0);
  EXPECT_LT(circularity.max().item<double>(), 1);
  EXPECT_GE(angle.min().item<double>(), 0);
  EXPECT_LT(angle.max().item<double>(), M_PI);
  // Varied shapes: every summary spreads over the prior.
  EXPECT_GT(aspect.std().item<double>(), 0.05);
  EXPECT_GT(circularity.std().item<double>(), 0.05);
  EXPECT_GT(angle.std().item<double>(), 0.5);
  // float32 works alike; batch shapes and empty batches pass through.
  const auto y32 = summaries(x.to(torch::kFloat32));
  EXPECT_EQ(y32.scalar_type(), torch::kFloat32);
  EXPECT_LT((y32.select(1, 1).to(torch::kFloat64) - circularity).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(summaries(x.view({3, 100, 20})).sizes(), torch::IntArrayRef({3, 100, 3}));
  EXPECT_EQ(summaries(torch::zeros({0, 20})).sizes(), torch::IntArrayRef({0, 3}));
}

TEST(FourierCurves, SummariesHaveFiniteGradients) {
  const auto x = sample_prior(5, seeded(6), torch::kFloat64).requires_grad_();
  summaries(x).sum().backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
}

TEST(FourierCurves, ObserveAddsIndependentGaussianNoise) {
  const auto x = sample_prior(2000, seeded(7), torch::kFloat64);
  const auto clean = summaries(x);
  const auto y = observe(x, seeded(8));
  const auto z = (y - clean) / kDefaultNoise;  // [2000, 3], should be N(0, I)
  EXPECT_LT(z.mean(0).abs().max().item<double>(), 4 / std::sqrt(2000.0));
  EXPECT_LT((z.std(0) - 1).abs().max().item<double>(), 0.07);
  const auto correlation = torch::mm(z.t(), z) / 2000;
  EXPECT_LT((correlation - torch::eye(3, torch::kFloat64)).abs().max().item<double>(), 0.1);
  EXPECT_TRUE(torch::equal(y, observe(x, seeded(8))));
  EXPECT_TRUE(torch::equal(observe(x, seeded(8), 0.0), clean));
  const auto wide = (observe(x, seeded(9), 0.5) - clean).std().item<double>();
  EXPECT_NEAR(wide, 0.5, 0.02);
  expect_error([&] { observe(x, {}, -0.1); },
               {"fourier::observe", "'noise'", "finite and >= 0", "-0.1"});
  expect_error([&] { observe(x, {}, std::numeric_limits<double>::quiet_NaN()); },
               {"fourier::observe", "'noise'", "nan"});
}

TEST(FourierCurves, AbcKeepsExactlyTheNearestDraws) {
  const int64_t n = 500, keep = 17;
  const auto prior_y = torch::randn({n, 3}, seeded(10), torch::kFloat64);
  const auto prior_x = torch::arange(2 * n, torch::kFloat32).view({n, 2});
  const auto y_star = torch::tensor({0.125, -0.25, 0.375}, torch::kFloat64);  // exact in float32
  std::vector<double> distance(n);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < 3; ++j)
      s += std::pow(prior_y[i][j].item<double>() - y_star[j].item<double>(), 2);
    distance[i] = std::sqrt(s);
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return distance[a] < distance[b]; });
  const auto nearest = nearest_observations(y_star, prior_y, keep);
  const auto posterior = abc_posterior(y_star, prior_x, prior_y, keep);
  ASSERT_EQ(nearest.indices.sizes(), torch::IntArrayRef({keep}));
  ASSERT_EQ(posterior.sizes(), torch::IntArrayRef({keep, 2}));
  for (int64_t i = 0; i < keep; ++i) {
    EXPECT_EQ(nearest.indices[i].item<int64_t>(), order[i]) << i;
    EXPECT_NEAR(nearest.distances[i].item<double>(), distance[order[i]], 1e-14) << i;
    EXPECT_TRUE(torch::equal(posterior[i], prior_x[order[i]])) << i;
  }
  // Keeping every row sorts them all; a float32 target is compared in prior_y's dtype.
  const auto all = nearest_observations(y_star.to(torch::kFloat32), prior_y, n);
  EXPECT_TRUE(torch::equal(all.indices, torch::tensor(order)));
}

TEST(FourierCurves, AbcRefusesMismatchedInput) {
  const auto y = torch::randn({10, 3}, torch::kFloat64);
  const auto x = torch::randn({10, 20});
  const auto y_star = torch::zeros({3}, torch::kFloat64);
  expect_error([&] { abc_posterior(y_star, x, y, 0); },
               {"fourier::abc_posterior", "'keep'", "1..10", "got 0"});
  expect_error([&] { nearest_observations(y_star, y, 11); },
               {"fourier::nearest_observations", "'keep'", "1..10", "got 11"});
  expect_error([&] { abc_posterior(torch::zeros({2}), x, y, 3); },
               {"fourier::abc_posterior", "'y_star'", "[3]", "got shape [2]"});
  expect_error(
      [&] { abc_posterior(y_star, x.narrow(0, 0, 9), y, 3); },
      {"fourier::abc_posterior", "'prior_x'", "[9, 20]", "[10, 3]", "same number of rows"});
  expect_error([&] { nearest_observations(y_star, y.view({30}), 3); },
               {"fourier::nearest_observations", "'prior_y'", "[N, m]", "[30]"});
  auto bad = y.clone();
  bad[4][1] = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { abc_posterior(y_star, x, bad, 3); },
               {"fourier::abc_posterior", "'prior_y'", "finite", "1 of its 30"});
}

TEST(FourierCurves, ChunkedAbcEqualsAbcOnAllDraws) {
  // 2500 draws in chunks of 1000 (the last one short) against the same draws in one pool.
  const int64_t draws = 2500, keep = 40;
  auto stream = seeded(21);
  std::vector<torch::Tensor> xs, ys;
  for (int64_t rows : {1000, 1000, 500}) {
    xs.push_back(sample_prior(rows, stream));
    ys.push_back(observe(xs.back(), stream));
  }
  const auto prior_x = torch::cat(xs), prior_y = torch::cat(ys);
  const auto y_stars = observe(sample_prior(3, seeded(22)), seeded(23));
  const auto chunked = abc_posteriors(y_stars, draws, keep, seeded(21), 1000);
  ASSERT_EQ(chunked.x.sizes(), torch::IntArrayRef({3, keep, kCoefficients}));
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(torch::equal(chunked.x[k], abc_posterior(y_stars[k], prior_x, prior_y, keep))) << k;
    const auto nearest = nearest_observations(y_stars[k], prior_y, keep);
    EXPECT_NEAR(chunked.tolerance[k].item<double>(), nearest.distances[-1].item<double>(), 1e-6);
  }
  expect_error([&] { abc_posteriors(y_stars, 10, 11, seeded(1)); },
               {"fourier::abc_posteriors", "'keep'", "1..10", "got 11"});
  expect_error([&] { abc_posteriors(y_stars[0], 10, 5, seeded(1)); },
               {"fourier::abc_posteriors", "'y_stars'", "[K, 3]", "got shape [3]"});
  expect_error([&] { abc_posteriors(y_stars, 10, 5, seeded(1), 0); },
               {"fourier::abc_posteriors", "'chunk'"});
}

}  // namespace
}  // namespace diffeo::data::fourier
