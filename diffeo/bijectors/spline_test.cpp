// The rational-quadratic spline: its shape (monotone, C1, identity tails, knots),
// log-dets against autograd and finite differences, tight round trips and
// finite gradients under extreme parameters, errors, and the generic harness
// over RationalQuadraticSpline.

#include "diffeo/bijectors/spline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/rational_quadratic_spline.h"
#include "diffeo/core/checks.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/tensor_checks.h"

namespace diffeo {
namespace {

using spline::rational_quadratic;
using testing::all_finite;
using testing::doubles;
using testing::expect_error;
using testing::max_abs;

constexpr int64_t kBins = 8;
constexpr int64_t kParams = 3 * kBins - 1;
constexpr double kSplineBound = 3.0;  // SplineOptions' default

// `rows` random parameter sets of shape [rows, 1, 3K - 1] (one per row of a
// [rows, n] input), standard normal times `scale`.
torch::Tensor random_params(int64_t rows, double scale, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({rows, 1, kParams}, gen, torch::kFloat64) * scale;
}

// One bin takes nearly all the width, another nearly all the height, and the
// interior slopes alternate between the minimum and about 43.
torch::Tensor lopsided_params() {
  auto p = torch::zeros({1, 1, kParams}, torch::kFloat64);
  p[0][0][2] = 40.0;          // width of bin 2
  p[0][0][kBins + 5] = 40.0;  // height of bin 5
  for (int64_t i = 0; i < kBins - 1; ++i) p[0][0][2 * kBins + i] = i % 2 ? 30.0 : -30.0;
  return p;
}

// The parameter sets every robustness test runs over, [rows, 1, 3K - 1] each.
std::vector<torch::Tensor> hard_params() {
  return {random_params(4, 3.0, 1), random_params(4, 50.0, 2), lopsided_params()};
}

// Inputs of shape [rows, n] that probe the spline: every knot, both sides of
// it, +-bound, +-1e4 and uniform points in (-4, 4).  `k` is x or y knots.
torch::Tensor probes(const torch::Tensor& k, uint64_t seed) {
  const auto rows = k.size(0);
  auto knots = k.reshape({rows, -1});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto uniform = torch::rand({rows, 200}, gen, torch::kFloat64) * 8 - 4;
  auto fixed = doubles({-kSplineBound, kSplineBound, -1e4, 1e4, 0.0}).expand({rows, 5});
  return torch::cat({knots, knots - 1e-12, knots + 1e-12, fixed, uniform}, 1);
}

TEST(Spline, ParameterCount) {
  EXPECT_EQ(spline::parameter_count(1), 2);
  EXPECT_EQ(spline::parameter_count(8), 23);
  expect_error([] { spline::parameter_count(0); }, {"'bins'", "positive", "0"});
}

TEST(Spline, ZeroParamsGiveTheIdentity) {
  auto x = torch::cat({torch::linspace(-6, 6, 1201, torch::kFloat64), doubles({-3, 3, -1e4, 1e4})});
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tolerance = dtype == torch::kFloat64 ? 1e-13 : 1e-5;
    auto t = x.to(dtype);
    auto params = torch::zeros({kParams}, dtype);
    for (bool inverse : {false, true}) {
      auto r = rational_quadratic(t, params, inverse);
      EXPECT_LT(max_abs(r.output - t), tolerance * kSplineBound) << inverse;
      EXPECT_LT(max_abs(r.log_det), tolerance) << inverse;
      EXPECT_EQ(r.output.dtype(), dtype);
    }
  }
}

TEST(Spline, KnotsMapToTheCumulativeHeights) {
  auto params = random_params(4, 3.0, 3);
  auto k = spline::knots(params);
  ASSERT_EQ(k.x.sizes(), torch::IntArrayRef({4, 1, kBins + 1}));
  // The ends are exact, and the knots strictly increase.
  for (const auto& t : {k.x, k.y}) {
    EXPECT_TRUE((t.select(-1, 0) == -kSplineBound).all().item<bool>());
    EXPECT_TRUE((t.select(-1, kBins) == kSplineBound).all().item<bool>());
    EXPECT_TRUE((t.diff(1, -1) > 0).all().item<bool>());
  }
  auto x = k.x.squeeze(1);
  auto r = rational_quadratic(x, params, false);
  EXPECT_LT(max_abs(r.output - k.y.squeeze(1)), 1e-13);
  EXPECT_LT(max_abs(r.log_det - k.derivative.log().squeeze(1)), 1e-12);
  auto back = rational_quadratic(k.y.squeeze(1), params, /*inverse=*/true);
  EXPECT_LT(max_abs(back.output - x), 1e-13);
}

TEST(Spline, IsContinuousWithContinuousSlopeAtEveryKnot) {
  auto params = random_params(4, 3.0, 4);
  auto k = spline::knots(params);
  auto x = k.x.squeeze(1), y = k.y.squeeze(1);
  auto below = rational_quadratic(x - 1e-9, params, false),
       above = rational_quadratic(x + 1e-9, params, false);
  // A jump would be of the size of a bin; the slopes near the knots are < 20.
  EXPECT_LT(max_abs(below.output - y), 2e-8);
  EXPECT_LT(max_abs(above.output - y), 2e-8);
  // The log-slope changes at up to ~1e5 per unit next to a knot when a steep bin
  // meets a shallow knot slope, so its continuity is checked closer in.
  auto log_slope = [&](double offset) {
    return rational_quadratic(x + offset, params, false).log_det;
  };
  auto left = log_slope(-1e-12), right = log_slope(1e-12);
  EXPECT_LT(max_abs(left - right), 1e-6);
  // Slope 1 on both sides of -bound and +bound; the outer sides are the identity.
  EXPECT_TRUE((left.select(1, 0) == 0).all().item<bool>());
  EXPECT_TRUE((right.select(1, kBins) == 0).all().item<bool>());
  EXPECT_LT(max_abs(right.select(1, 0)), 1e-6);
  EXPECT_LT(max_abs(left.select(1, kBins)), 1e-6);
}

TEST(Spline, IsStrictlyIncreasingWithIdentityTails) {
  auto params = random_params(4, 3.0, 5);
  auto x = torch::linspace(-5, 5, 20001, torch::kFloat64).expand({4, 20001});
  auto r = rational_quadratic(x, params, false);
  EXPECT_TRUE((r.output.diff(1, -1) > 0).all().item<bool>());
  auto tails = x.abs() > kSplineBound;
  EXPECT_TRUE(torch::equal(r.output.masked_select(tails), x.masked_select(tails)));
  EXPECT_TRUE((r.log_det.masked_select(tails) == 0).all().item<bool>());
  auto ends =
      rational_quadratic(doubles({-kSplineBound, kSplineBound}).expand({4, 2}), params, false)
          .output;
  EXPECT_LT(max_abs(ends - doubles({-kSplineBound, kSplineBound})), 1e-15);
}

TEST(Spline, LogDetMatchesAutogradAndFiniteDifferences) {
  auto params = random_params(4, 3.0, 6);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  auto x0 = torch::rand({4, 500}, gen, torch::kFloat64) * 7.6 - 3.8;
  double worst64 = 0, worst32 = 0;
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    auto p = params.to(dtype);
    auto x = x0.to(dtype).requires_grad_(true);
    auto forward = rational_quadratic(x, p, false);
    auto dydx = torch::autograd::grad({forward.output.sum()}, {x})[0];
    auto y = forward.output.detach().requires_grad_(true);
    auto inverse = rational_quadratic(y, p, /*inverse=*/true);
    auto dxdy = torch::autograd::grad({inverse.output.sum()}, {y})[0];
    const double error =
        std::max(max_abs(forward.log_det - dydx.log()), max_abs(inverse.log_det - dxdy.log()));
    (dtype == torch::kFloat64 ? worst64 : worst32) = error;
  }
  EXPECT_LT(worst64, 1e-11);
  EXPECT_LT(worst32, 1e-2);
  RecordProperty("max_log_det_vs_autograd_float64", number_string(worst64));
  RecordProperty("max_log_det_vs_autograd_float32", number_string(worst32));

  // Central differences, O(h^2) accurate on milder params (randn * 3 bends within
  // 1e-5 of some knots too sharply for them): a wrong formula is off by far more.
  const double h = 1e-5;
  auto mild = params / 2;
  auto slope = (rational_quadratic(x0 + h, mild, false).output -
                rational_quadratic(x0 - h, mild, false).output) /
               (2 * h);
  EXPECT_LT(max_abs(rational_quadratic(x0, mild, false).log_det - slope.log()), 1e-6);
}

// Where the spline is nearly flat (g' down to 1e-8 for extreme params), every x
// within eps (1 + |y|) / g'(x) rounds to the same y, so no inverse can recover x
// better: the round-trip error beyond that rounding allowance.
double excess_error(const torch::Tensor& x, const torch::Tensor& back, const Result& forward,
                    double eps) {
  auto allowance = eps * (1 + forward.output.abs()) / forward.log_det.exp();
  return ((back - x).abs() - allowance).max().item<double>();
}

TEST(Spline, RoundTripIsTightEvenForExtremeParams) {
  const auto sets = hard_params();
  for (size_t i = 0; i < sets.size(); ++i) {
    const auto& params = sets[i];
    auto k = spline::knots(params);
    auto x = probes(k.x, 7);
    auto forward = rational_quadratic(x, params, false);
    auto back = rational_quadratic(forward.output, params, /*inverse=*/true);
    ASSERT_TRUE(all_finite(forward.output) && all_finite(forward.log_det)) << i;
    ASSERT_TRUE(all_finite(back.output) && all_finite(back.log_det)) << i;
    const double error = max_abs(back.output - x);
    if (i == 0) EXPECT_LT(error, 1e-10);  // randn * 3: nowhere flat enough to matter
    // Beyond that allowance, within a few ulps of x (4.4e-16 at |x| = 3); the root
    // 2c / (-b - sqrt(disc)) alone is 100 times worse where b < 0.
    EXPECT_LT(excess_error(x, back.output, forward, 1e-14), 4e-15) << i;
    RecordProperty("max_round_trip_error_float64_set" + std::to_string(i), number_string(error));

    // y -> x -> y, with log-dets at exactly matching points.
    auto y = probes(k.y, 8);
    auto inverse = rational_quadratic(y, params, /*inverse=*/true);
    auto again = rational_quadratic(inverse.output, params, false);
    ASSERT_TRUE(all_finite(inverse.output) && all_finite(inverse.log_det)) << i;
    EXPECT_LT(max_abs(again.output - y), 1e-12) << i;
    EXPECT_LT(max_abs(inverse.log_det + again.log_det), i == 0 ? 1e-9 : 1e-6) << i;
  }
}

TEST(Spline, RoundTripInFloat32) {
  auto params = random_params(4, 3.0, 9);
  auto x = probes(spline::knots(params).x, 10).to(torch::kFloat32);
  auto forward = rational_quadratic(x, params.to(torch::kFloat32), false);
  auto back = rational_quadratic(forward.output, params.to(torch::kFloat32), /*inverse=*/true);
  ASSERT_TRUE(all_finite(back.output) && all_finite(back.log_det));
  EXPECT_LT(excess_error(x, back.output, forward, 1e-6), 1e-5);
  RecordProperty("max_round_trip_error_float32", number_string(max_abs(back.output - x)));
}

TEST(Spline, GradientsAreFiniteAtEdgesBoundsAndTails) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    for (const auto& raw : hard_params()) {
      auto k = spline::knots(raw);
      for (bool inverse : {false, true}) {
        auto params = raw.to(dtype).requires_grad_(true);
        auto x = probes(inverse ? k.y : k.x, 11).to(dtype).requires_grad_(true);
        auto r = rational_quadratic(x, params, inverse);
        auto grads = torch::autograd::grad({r.output.sum() + r.log_det.sum()}, {x, params});
        EXPECT_TRUE(all_finite(grads[0])) << dtype << " inverse " << inverse;
        EXPECT_TRUE(all_finite(grads[1])) << dtype << " inverse " << inverse;
      }
    }
  }
}

TEST(Spline, BroadcastsParamsOverTheBatch) {
  auto params = random_params(1, 2.0, 12).reshape({kParams});
  auto x = torch::randn({2, 3, 5}, torch::kFloat64);
  auto r = rational_quadratic(x, params, false);
  ASSERT_EQ(r.output.sizes(), x.sizes());
  auto one = rational_quadratic(x[1][2][3], params, false);  // a 0-dim input
  EXPECT_EQ(one.output.dim(), 0);
  EXPECT_DOUBLE_EQ(one.output.item<double>(), r.output[1][2][3].item<double>());
}

TEST(Spline, RefusesBadParamsAndOptions) {
  auto x = torch::randn({4});
  expect_error(
      [&] {
        rational_quadratic(x, torch::zeros({4, 7}), false);
      },
      {"spline::rational_quadratic", "'params'", "[4, 7]", "7", "3K - 1"});
  expect_error([&] { rational_quadratic(x, torch::zeros({}), false); }, {"'params'", "[]"});
  expect_error(
      [&] {
        rational_quadratic(x, torch::zeros({3, kParams}), false);
      },
      {"'params'", "[3, 23]", "[4]", "broadcast"});
  expect_error([&] { rational_quadratic(x, torch::zeros({kParams}, torch::kFloat64), true); },
               {"'params'", "float64", "'y'", "float32"});
  auto with = [](spline::SplineOptions o) {
    return [o] { rational_quadratic(torch::zeros({2}), torch::zeros({kParams}), false, o); };
  };
  expect_error(with({-1.0}), {"'bound'", "-1"});
  expect_error(with({3.0, 0.2}), {"'min_bin_width'", "0.2", "8 bins"});
  expect_error(with({3.0, 1e-3, 0.0}), {"'min_bin_height'", "0"});
  expect_error(with({3.0, 1e-3, 1e-3, 1.0}), {"'min_derivative'", "1"});
}

TEST(RationalQuadraticSpline, StartsAtTheIdentityWithZeroParams) {
  auto spline = RationalQuadraticSpline(kBins, std::vector<int64_t>{3});
  ASSERT_EQ(spline->params().sizes(), torch::IntArrayRef({3, kParams}));
  EXPECT_TRUE((spline->params() == 0).all().item<bool>());
  EXPECT_EQ(spline->named_parameters().size(), 1u);
  EXPECT_TRUE(spline->named_parameters().contains("params"));
  auto x = torch::randn({5, 3}) * 4;
  auto r = spline->forward_and_log_det(x);
  EXPECT_TRUE(torch::allclose(r.output, x, 1e-6, 1e-6));
  EXPECT_LT(max_abs(r.log_det), 1e-6);

  auto fixed = RationalQuadraticSpline(2, std::vector<int64_t>{}, spline::SplineOptions{},
                                       /*learnable=*/false);
  EXPECT_EQ(fixed->parameters().size(), 0u);
  EXPECT_EQ(fixed->buffers().size(), 1u);
  fixed->to(torch::kFloat64);
  EXPECT_EQ(fixed->inverse(doubles({0.5})).dtype(), torch::kFloat64);
}

TEST(RationalQuadraticSpline, RefusesBadArguments) {
  expect_error([] { RationalQuadraticSpline(0); }, {"RationalQuadraticSpline", "'bins'", "0"});
  expect_error(
      [] {
        RationalQuadraticSpline(4, std::vector<int64_t>{3, 0});
      },
      {"RationalQuadraticSpline", "'shape'"});
  expect_error(
      [] {
        RationalQuadraticSpline(4, std::vector<int64_t>{}, spline::SplineOptions{3.0, 0.3});
      },
      {"RationalQuadraticSpline", "'min_bin_width'", "4 bins"});
  expect_error(
      [] {
        RationalQuadraticSpline(4, std::vector<int64_t>{3})->forward(torch::randn({5, 2}));
      },
      {"RationalQuadraticSpline", "'x'", "[5, 2]", "[3]"});
}

// ---------------------------------------------------------------- harness

// A spline whose zero-initialised params are replaced by N(0, 1.5^2) draws
// from a private generator, so the harness sees a map that is not the identity.
RationalQuadraticSpline random_spline(std::vector<int64_t> shape, uint64_t seed) {
  auto spline = RationalQuadraticSpline(kBins, std::move(shape));
  torch::NoGradGuard no_grad;
  spline->params().normal_(0, 1.5, at::make_generator<at::CPUGeneratorImpl>(seed));
  return spline;
}

// Rows [n, shape...] of adversarial inputs: every knot of `spline` (as the
// harness will see it, in float64) and its neighbours, +-bound and +-1e4.
torch::Tensor spline_adversaries(RationalQuadraticSpline spline) {
  spline->to(torch::kFloat64);
  auto x = spline::knots(spline->params()).x;                   // shape + [K + 1]
  x = x.reshape({-1, kBins + 1}).t().reshape({kBins + 1, -1});  // [K + 1, D]
  auto fixed =
      doubles({-kSplineBound, kSplineBound, -1e4, 1e4}).unsqueeze(1).expand({4, x.size(1)});
  auto rows = torch::cat({x, x - 1e-9, x + 1e-9, fixed});
  return spline->params().dim() == 1 ? rows.reshape({-1}) : rows;
}

std::vector<testing::BijectorCase> spline_cases() {
  return {
      {"RationalQuadraticSpline",
       [] { return Bijector(random_spline({}, 21)); },
       {},
       {},
       {spline_adversaries(random_spline({}, 21))},
       0,
       {doubles({-kSplineBound, kSplineBound})}},
      {"BlockRationalQuadraticSpline",
       [] { return Bijector(Block(random_spline({3}, 22), 1)); },
       {3},
       {},
       {spline_adversaries(random_spline({3}, 22))},
       0,
       {torch::tensor(
           {{-kSplineBound, kSplineBound, kSplineBound}, {kSplineBound, -kSplineBound, 0.5}},
           torch::kFloat64)}},
  };
}

class SplineProperties : public ::testing::TestWithParam<testing::BijectorCase> {};

TEST_P(SplineProperties, RoundTrip) { testing::check_round_trip(GetParam()); }
TEST_P(SplineProperties, LogDetMatchesJacobian) {
  testing::check_log_det_against_jacobian(GetParam());
}
TEST_P(SplineProperties, LogDetSymmetry) { testing::check_log_det_symmetry(GetParam()); }
TEST_P(SplineProperties, BatchShapes) { testing::check_batch_shapes(GetParam()); }
TEST_P(SplineProperties, Context) { testing::check_context(GetParam()); }
TEST_P(SplineProperties, FiniteGradients) { testing::check_finite_gradients(GetParam()); }
TEST_P(SplineProperties, Adversarial) { testing::check_adversarial(GetParam(), 1e-10); }
TEST_P(SplineProperties, Boundary) { testing::check_boundary(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Splines, SplineProperties, ::testing::ValuesIn(spline_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace diffeo
