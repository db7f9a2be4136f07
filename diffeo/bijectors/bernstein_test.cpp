// Bernstein polynomials: coefficients, identity at zero parameters, monotonicity
// and C1 joins up to order 100, inverse accuracy and iteration counts, the
// derivative against autograd, gradients of the inverse against finite
// differences, errors, BernsteinTransform, and the generic harness over
// BernsteinPolynomial (plain and bounded).

#include "diffeo/bijectors/bernstein.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "diffeo/bijectors/autoregressive.h"
#include "diffeo/bijectors/bernstein_transform.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/core/checks.h"
#include "diffeo/nn/made.h"
#include "diffeo/nn/mlp.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/tensor_checks.h"

namespace diffeo {
namespace {

using bernstein::BernsteinOptions;
using testing::doubles;
using testing::expect_error;
using testing::max_abs;

constexpr double kBound = 3.0;

BernsteinOptions plain() { return {}; }
BernsteinOptions bounded() {
  BernsteinOptions o;
  o.bound = kBound;
  return o;
}

// `rows` random parameter sets [rows, 1, P] for an order-M polynomial, N(0, scale^2).
torch::Tensor random_params(int64_t order, const BernsteinOptions& o, int64_t rows, double scale,
                            uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({rows, 1, bernstein::parameter_count(order, o)}, gen, torch::kFloat64) *
         scale;
}

// The interval where each variant is a polynomial, and a margin of tail on each side.
torch::Tensor grid(const BernsteinOptions& o, int64_t n) {
  return o.bound > 0 ? torch::linspace(-o.bound - 1, o.bound + 1, n, torch::kFloat64)
                     : torch::linspace(-1, 2, n, torch::kFloat64);
}

TEST(Bernstein, ParameterCount) {
  EXPECT_EQ(bernstein::parameter_count(1), 2);
  EXPECT_EQ(bernstein::parameter_count(10), 11);
  EXPECT_EQ(bernstein::parameter_count(4, bounded()), 2);
  EXPECT_EQ(bernstein::parameter_count(100, bounded()), 98);
  expect_error([] { bernstein::parameter_count(0); }, {"'order'", "positive", "0"});
  expect_error([] { bernstein::parameter_count(3, bounded()); }, {"'order'", ">= 4", "got 3"});
}

TEST(Bernstein, CoefficientsIncreaseAndBoundedOnesMeetTheIdentity) {
  for (int64_t order : {4, 10, 100}) {
    auto p = random_params(order, plain(), 4, 3.0, 1);
    auto theta = bernstein::coefficients(p);
    ASSERT_EQ(theta.sizes(), torch::IntArrayRef({4, 1, order + 1}));
    EXPECT_TRUE((theta.diff(1, -1) > 0).all().item<bool>());
    EXPECT_TRUE(torch::equal(theta.select(-1, 0), p.select(-1, 0)));

    auto b = bernstein::coefficients(random_params(order, bounded(), 4, 3.0, 2), bounded());
    EXPECT_TRUE((b.diff(1, -1) > 0).all().item<bool>());
    EXPECT_TRUE((b.select(-1, 0) == 0).all().item<bool>());
    EXPECT_TRUE((b.select(-1, order) == 1).all().item<bool>());
    auto ends = bernstein::derivative(doubles({0, 1}).expand({4, 1, 2}), b.unsqueeze(-2));
    EXPECT_LT(max_abs(ends - 1), 1e-13) << order;
  }
}

TEST(Bernstein, ZeroParamsGiveTheIdentity) {
  for (auto o : {plain(), bounded()}) {
    auto x = torch::cat({grid(o, 1201), doubles({0, 1, -kBound, kBound, -1e4, 1e4})});
    for (int64_t order : {4, 100}) {
      for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
        const double tolerance = dtype == torch::kFloat64 ? 1e-13 : 1e-6;
        auto t = x.to(dtype);
        auto params = torch::zeros({bernstein::parameter_count(order, o)}, dtype);
        for (bool inverse : {false, true}) {
          auto r = bernstein::apply(t, params, inverse, o);
          EXPECT_LT(max_abs((r.output - t) / (1 + t.abs())), tolerance) << order << inverse;
          EXPECT_LT(max_abs(r.log_det), tolerance) << order << inverse;
          EXPECT_EQ(r.output.dtype(), dtype);
        }
      }
    }
  }
}

TEST(Bernstein, IsStrictlyIncreasingAndC1UpToOrder100) {
  for (auto o : {plain(), bounded()}) {
    for (int64_t order : {4, 20, 100}) {
      auto params = random_params(order, o, 4, 2.0, 3);
      auto x = grid(o, 20001).expand({4, 20001});
      auto r = bernstein::apply(x, params, false, o);
      EXPECT_TRUE((r.output.diff(1, -1) > 0).all().item<bool>()) << order;
      EXPECT_TRUE(torch::isfinite(r.log_det).all().item<bool>()) << order;
      EXPECT_GT(r.log_det.min().item<double>(), std::log(o.min_slope) - 1e-9) << order;
      // Value and slope continue across the ends of the polynomial's interval.
      const double lo = o.bound > 0 ? -o.bound : 0, hi = o.bound > 0 ? o.bound : 1;
      auto ends = doubles({lo, hi}).expand({4, 2});
      auto at = bernstein::apply(ends, params, false, o);
      for (double h : {-1e-10, 1e-10}) {
        auto near = bernstein::apply(ends + h, params, false, o);
        const double steepest = at.log_det.exp().max().item<double>();
        EXPECT_LT(max_abs(near.output - at.output), 2e-10 * (1 + steepest)) << order;
        EXPECT_LT(max_abs(near.log_det - at.log_det), 1e-5) << order;
      }
      if (o.bound > 0) {
        EXPECT_LT(max_abs(at.output - doubles({lo, hi})), 1e-14);
        EXPECT_LT(max_abs(at.log_det), 1e-12);
      }
    }
  }
}

// The worst |x - inverse(forward(x))| and the solver's iterations over random
// polynomials of orders 3 to 100, both variants.
TEST(Bernstein, InverseIsAccurateUpToOrder100) {
  for (auto o : {plain(), bounded()}) {
    for (int64_t order : {4, 10, 100}) {
      auto params = random_params(order, o, 4, 2.0, 4);
      auto x = grid(o, 2001).expand({4, 2001});
      for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
        auto p = params.to(dtype);
        auto t = x.to(dtype);
        auto y = bernstein::apply(t, p, false, o).output;
        auto back = bernstein::apply(y, p, true, o).output;
        const double error = max_abs(back - t);
        EXPECT_LT(error, dtype == torch::kFloat64 ? 1e-12 : 1e-5) << order << " " << dtype;
        RecordProperty("error_" + std::to_string(order) + (o.bound > 0 ? "_bounded" : "_plain") +
                           (dtype == torch::kFloat64 ? "_f64" : "_f32"),
                       number_string(error));
      }
      // In u units the float64 tolerance is 1e-12 / (2 bound) or 1e-12.
      auto theta = bernstein::coefficients(params, o);
      auto u = torch::rand({4, 2001}, torch::kFloat64);
      auto root = bernstein::solve(bernstein::value(u, theta), theta, 1e-13, 100);
      EXPECT_LT(max_abs(root.u - u), 1e-12) << order;
      EXPECT_LE(root.iterations, 40) << order;
      RecordProperty("iterations_" + std::to_string(order) + (o.bound > 0 ? "_bounded" : "_plain"),
                     static_cast<int>(root.iterations));
    }
  }
}

TEST(Bernstein, SolveFallsBackToBisectionOnSteepPolynomials) {
  // Nearly a step: slopes from min_slope to ~1e3, where plain Newton overshoots.
  auto a = torch::full({1, 11}, -30.0, torch::kFloat64);
  a[0][5] = 7.0;
  auto theta = bernstein::coefficients(a);
  auto u = torch::linspace(0, 1, 1001, torch::kFloat64).unsqueeze(0);
  auto root = bernstein::solve(bernstein::value(u, theta), theta, 1e-12, 200);
  EXPECT_LT(max_abs(bernstein::value(root.u, theta) - bernstein::value(u, theta)), 1e-13);
  EXPECT_LT(root.iterations, 60);
  RecordProperty("iterations_steep", static_cast<int>(root.iterations));
}

TEST(Bernstein, SolverOptionsAreHonoured) {
  auto params = random_params(20, bounded(), 2, 2.0, 8);
  auto x = grid(bounded(), 101).expand({2, 101});
  auto y = bernstein::apply(x, params, false, bounded()).output;
  auto error = [&](double tolerance, int64_t iterations) {
    auto o = bounded();
    o.tolerance = tolerance;
    o.max_iterations = iterations;
    return max_abs(bernstein::apply(y, params, true, o).output - x);
  };
  // One iteration plus the final Newton step is not enough; a loose tolerance
  // stops early (its final step still refines the root quadratically).
  EXPECT_GT(error(1e-12, 1), 1e-9);
  EXPECT_LT(error(1e-12, 100), 1e-12);
  EXPECT_LT(error(1e-2, 100), 1e-2);
  auto theta = bernstein::coefficients(params, bounded());
  auto u = torch::rand({2, 101}, torch::kFloat64);
  EXPECT_EQ(bernstein::solve(bernstein::value(u, theta), theta, 1e-13, 3).iterations, 3);
  // Coefficients that are not strictly increasing: g(u) = 3u^2 - 2u^3 has g' = 0
  // at both ends, where the first guesses for t = 0 and 1 land; the Newton step
  // 0 / 0 is NaN there and bisects instead.
  auto flat = doubles({0, 0, 1, 1});
  auto targets = doubles({0, 1, 0.5, 1e-9});
  auto root = bernstein::solve(targets, flat, 1e-13, 100);
  EXPECT_TRUE(torch::isfinite(root.u).all().item<bool>());
  EXPECT_LT(max_abs(bernstein::value(root.u, flat) - targets), 1e-12);
}

TEST(Bernstein, DerivativeMatchesAutograd) {
  auto theta = bernstein::coefficients(random_params(30, plain(), 3, 2.0, 5)).squeeze(1);
  auto u = torch::rand({3, 500}, torch::kFloat64).requires_grad_(true);
  auto g = bernstein::value(u, theta.unsqueeze(1));
  auto grad = torch::autograd::grad({g.sum()}, {u})[0];
  EXPECT_LT(max_abs(grad - bernstein::derivative(u.detach(), theta.unsqueeze(1))), 1e-10);
  // And the forward log-det of both variants against d output / dx.
  for (auto o : {plain(), bounded()}) {
    auto params = random_params(30, o, 3, 2.0, 6);
    auto x = grid(o, 500).expand({3, 500}).clone().requires_grad_(true);
    auto r = bernstein::apply(x, params, false, o);
    auto slope = torch::autograd::grad({r.output.sum()}, {x})[0];
    EXPECT_LT(max_abs(slope.log() - r.log_det.detach()), 1e-10);
  }
}

// d/dp of sum(w * x(y, p)) and of sum(w * log_det) for the inverse, against
// central differences in every parameter and in y.
TEST(Bernstein, InverseGradientsMatchFiniteDifferences) {
  for (auto o : {plain(), bounded()}) {
    auto params = random_params(8, o, 1, 1.0, 7).squeeze(1);  // [1, P]
    auto y = grid(o, 7).unsqueeze(0);
    auto w = torch::linspace(0.5, 1.5, 7, torch::kFloat64);
    auto loss = [&](const torch::Tensor& yy, const torch::Tensor& pp) {
      auto r = bernstein::apply(yy, pp, true, o);
      return std::make_pair((w * r.output).sum(), (w * r.log_det).sum());
    };
    auto p = params.clone().requires_grad_(true);
    auto yg = y.clone().requires_grad_(true);
    auto [out, log_det] = loss(yg, p);
    auto grads_out = torch::autograd::grad({out}, {p, yg}, {}, /*retain_graph=*/true);
    auto grads_ld = torch::autograd::grad({log_det}, {p, yg});
    const double h = 1e-6;
    torch::NoGradGuard no_grad;
    for (int64_t which = 0; which < 2; ++which) {
      auto base = which == 0 ? params : y;
      auto fd_out = torch::zeros_like(base), fd_ld = torch::zeros_like(base);
      for (int64_t k = 0; k < base.numel(); ++k) {
        auto plus = base.clone(), minus = base.clone();
        plus.view(-1)[k] += h;
        minus.view(-1)[k] -= h;
        auto up = which == 0 ? loss(y, plus) : loss(plus, params);
        auto down = which == 0 ? loss(y, minus) : loss(minus, params);
        fd_out.view(-1)[k] = (up.first - down.first) / (2 * h);
        fd_ld.view(-1)[k] = (up.second - down.second) / (2 * h);
      }
      EXPECT_LT(max_abs(grads_out[which] - fd_out), 1e-6) << which << " " << o.bound;
      EXPECT_LT(max_abs(grads_ld[which] - fd_ld), 1e-5) << which << " " << o.bound;
    }
  }
}

TEST(Bernstein, Errors) {
  auto x = torch::zeros({4});
  expect_error([&] { bernstein::apply(x, torch::zeros({1}), false); },
               {"bernstein::apply", "'params'", "[1]", "M + 1 >= 2"});
  expect_error(
      [&] {
        bernstein::apply(x, torch::zeros({3, 4}), false);
      },
      {"'params'", "[3, 4]", "broadcast", "[4]"});
  expect_error(
      [&] {
        bernstein::apply(x, torch::zeros({4, 4}, torch::kFloat64), false);
      },
      {"'params'", "dtype"});
  auto bad = bounded();
  bad.min_slope = 1.5;
  expect_error([&] { bernstein::apply(x, torch::zeros({3}), false, bad); }, {"'min_slope'", "1.5"});
  bad = plain();
  bad.bound = -1;
  expect_error([&] { bernstein::apply(x, torch::zeros({3}), false, bad); }, {"'bound'", "-1"});
  expect_error([] { BernsteinPolynomial(0); }, {"BernsteinPolynomial", "'order'", "0"});
  expect_error([] { BernsteinPolynomial(3, std::vector<int64_t>{}, bounded()); },
               {"BernsteinPolynomial", "'order'", ">= 4"});
  expect_error(
      [] {
        BernsteinPolynomial(4, std::vector<int64_t>{3})->forward(torch::randn({5, 2}));
      },
      {"BernsteinPolynomial", "'x'", "[5, 2]", "[3]"});
  expect_error([] { BernsteinTransform(0); }, {"BernsteinTransform", "'order'"});
  expect_error(
      [] {
        BernsteinTransform(5).apply(torch::zeros({2, 3}), torch::zeros({2, 3, 5}), false);
      },
      {"BernsteinTransform", "'params'", "[2, 3, 5]", "6 values"});
}

TEST(Bernstein, BijectorStartsAtTheIdentity) {
  for (auto o : {plain(), bounded()}) {
    auto b = BernsteinPolynomial(12, std::vector<int64_t>{3}, o);
    EXPECT_EQ(b->params().sizes(), torch::IntArrayRef({3, o.bound > 0 ? 10 : 13}));
    EXPECT_TRUE(b->params().requires_grad());
    auto x = torch::randn({50, 3}) * 3;
    auto r = b->forward_and_log_det(x);
    EXPECT_LT(max_abs(r.output - x), 1e-5);
    EXPECT_LT(max_abs(r.log_det), 1e-5);
    EXPECT_EQ(b->named_parameters().size(), 1u);
    EXPECT_EQ(BernsteinPolynomial(12, std::vector<int64_t>{}, o, /*learnable=*/false)
                  ->named_buffers()
                  .size(),
              1u);
  }
}

TEST(Bernstein, TransformIsApplyWithItsOrder) {
  auto t = bernstein_transform(6, bounded());
  EXPECT_EQ(t->parameters_per_feature(), 4);
  EXPECT_EQ(t->name(), "bernstein");
  EXPECT_EQ(BernsteinTransform(6).parameters_per_feature(), 7);
  auto x = torch::randn({5, 3}, torch::kFloat64) * 3;
  auto zero = t->apply(x, torch::zeros({5, 3, 4}, torch::kFloat64), false);
  EXPECT_LT(max_abs(zero.output - x), 1e-13);
  auto params = torch::randn({5, 3, 4}, torch::kFloat64);
  auto r = t->apply(x, params, false);
  auto expected = bernstein::apply(x, params, false, bounded());
  EXPECT_TRUE(torch::equal(r.output, expected.output));
  EXPECT_EQ(r.log_det.sizes(), torch::IntArrayRef({5, 3}));
  EXPECT_LT(max_abs(t->apply(r.output, params, true).output - x), 1e-12);
}

// ---------------------------------------------------------------- harness

// A polynomial whose zero-initialised params are replaced by N(0, 1.5^2)
// draws from a private generator, so the harness sees a map that is not the identity.
BernsteinPolynomial random_polynomial(int64_t order, std::vector<int64_t> shape, BernsteinOptions o,
                                      uint64_t seed) {
  auto b = BernsteinPolynomial(order, std::move(shape), o);
  torch::NoGradGuard no_grad;
  b->params().normal_(0, 1.5, at::make_generator<at::CPUGeneratorImpl>(seed));
  return b;
}

// Rows [n, d] (or [n] for d == 0) at and next to the ends of the polynomial's
// interval, and far out in the tails.
torch::Tensor adversaries(const BernsteinOptions& o, int64_t d) {
  const double lo = o.bound > 0 ? -o.bound : 0, hi = o.bound > 0 ? o.bound : 1;
  auto x = doubles(
      {lo, hi, lo - 1e-12, lo + 1e-12, hi - 1e-12, hi + 1e-12, lo + 1e-300, -1e4, 1e4, -1e8, 1e8});
  return d == 0 ? x : x.unsqueeze(1).expand({x.size(0), d}).contiguous();
}

// Rows [2, d] (or [2]) exactly at the ends of the polynomial's interval.
torch::Tensor interval_ends(const BernsteinOptions& o, int64_t d) {
  const double lo = o.bound > 0 ? -o.bound : 0, hi = o.bound > 0 ? o.bound : 1;
  auto x = doubles({lo, hi});
  return d == 0 ? x : x.unsqueeze(1).expand({2, d}).contiguous();
}

std::vector<testing::BijectorCase> bernstein_cases() {
  return {
      {"BernsteinPolynomial",
       [] { return Bijector(random_polynomial(10, {}, plain(), 31)); },
       {},
       {},
       {adversaries(plain(), 0)},
       0,
       {interval_ends(plain(), 0)}},
      {"BlockBernsteinPolynomial",
       [] { return Bijector(Block(random_polynomial(10, {3}, plain(), 32), 1)); },
       {3},
       {},
       {adversaries(plain(), 3)},
       0,
       {interval_ends(plain(), 3)}},
      {"BoundedBernsteinPolynomial",
       [] { return Bijector(random_polynomial(10, {}, bounded(), 33)); },
       {},
       {},
       {adversaries(bounded(), 0)},
       0,
       {interval_ends(bounded(), 0)}},
      {"BlockBoundedBernsteinPolynomial",
       [] { return Bijector(Block(random_polynomial(100, {3}, bounded(), 34), 1)); },
       {3},
       {},
       {adversaries(bounded(), 3)},
       0,
       {interval_ends(bounded(), 3)}},
      // Inside layers, with random (non-identity) conditioners: P = 8 - 2 = 6.
      {"SplitCouplingBernstein",
       [] {
         torch::manual_seed(35);
         auto mlp = nn::MLP(
             nn::MLPOptions(2, 2 * 6).hidden({16}).activation("tanh").zero_last_layer(false));
         return Bijector(
             SplitCoupling(4, 2, torch::nn::AnyModule(mlp), bernstein_transform(8, bounded())));
       },
       {4},
       {},
       {torch::tensor({{3.0, -3.0, 2.999, -1e3}, {0.0, 0.0, -3.0, 3.0}})},
       0,
       {torch::tensor({{0.5, -1.0, 3.0, -3.0}, {3.0, -3.0, -3.0, 3.0}})}},
      {"MAFBernstein",
       [] {
         torch::manual_seed(36);
         auto made = nn::MADE(nn::MADEOptions(3)
                                  .hidden({24})
                                  .outputs_per_feature(6)
                                  .activation("tanh")
                                  .zero_last_layer(false));
         return Bijector(MaskedAutoregressive(made, bernstein_transform(8, bounded())));
       },
       {3},
       {},
       {torch::tensor({{0.5, 3.0, -1e3}, {-3.0, 3.0 - 1e-12, 1e4}})},
       0,
       {torch::tensor({{3.0, -3.0, 3.0}, {0.2, 3.0, -3.0}})}},
  };
}

class BernsteinProperties : public ::testing::TestWithParam<testing::BijectorCase> {};

TEST_P(BernsteinProperties, RoundTrip) { testing::check_round_trip(GetParam()); }
TEST_P(BernsteinProperties, LogDetMatchesJacobian) {
  testing::check_log_det_against_jacobian(GetParam());
}
TEST_P(BernsteinProperties, LogDetSymmetry) { testing::check_log_det_symmetry(GetParam()); }
TEST_P(BernsteinProperties, BatchShapes) { testing::check_batch_shapes(GetParam()); }
TEST_P(BernsteinProperties, Context) { testing::check_context(GetParam()); }
TEST_P(BernsteinProperties, FiniteGradients) { testing::check_finite_gradients(GetParam()); }
TEST_P(BernsteinProperties, Adversarial) { testing::check_adversarial(GetParam(), 1e-10); }
TEST_P(BernsteinProperties, Boundary) { testing::check_boundary(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Bernstein, BernsteinProperties, ::testing::ValuesIn(bernstein_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace diffeo
