// Toy densities: closed forms integrate to 1 and match hand-computed values,
// samples match the closed forms (chi-square), samplers are reproducible,
// energy targets match their formulas, and bad input gives diffeo::Error,
// -inf or NaN as documented, never a spurious NaN.

#include "diffeo/data/toy.h"
#include "diffeo/data/density_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/goodness_of_fit.h"

namespace diffeo::data {
namespace {

using testing::expect_error;

const double kHalfWidth = 1.5 * M_PI;  // energy2..4: x1 ~ U(-3pi/2, 3pi/2)

// Boxes outside which every closed-form density has negligible mass (< 1e-5),
// with edges on the support's discontinuities (the uniform's ends, the
// checkerboard's squares) so that midpoint quadrature is exact there.
const std::map<std::string, PlotRange>& support_boxes() {
  static const std::map<std::string, PlotRange> boxes = {
      {"banana", {-6, 26, -9, 9}},
      {"gaussian_blobs", {-4.2, 4.2, -4.2, 4.2}},
      {"energy1", {-4, 4, -10, 10}},
      {"energy2", {-kHalfWidth, kHalfWidth, -4, 4}},
      {"energy3", {-kHalfWidth, kHalfWidth, -6, 4}},
      {"energy4", {-kHalfWidth, kHalfWidth, -4, 7}},
      {"circles", {-5, 5, -5, 5}},
      {"8gaussians", {-5, 5, -5, 5}},
      {"checkerboard", {-4, 4, -4, 4}},
      {"rings", {-4, 4, -4, 4}},
  };
  return boxes;
}

std::vector<const ToyDensity*> closed_forms() {
  std::vector<const ToyDensity*> out;
  for (const auto& d : toy_densities())
    if (d.log_prob) out.push_back(&d);
  return out;
}

TEST(ToyDensities, RegistryHasTheDocumentedOrderAndParts) {
  const std::vector<std::string> expected = {
      "banana",      "gaussian_blobs", "energy1", "energy2",    "energy3",      "energy4",
      "half_circle", "two_moons",      "circles", "8gaussians", "checkerboard", "pinwheel",
      "2spirals",    "swissroll",      "rings",   "u1",         "u2",           "u3",
      "u4"};
  EXPECT_EQ(toy_names(), expected);
  std::vector<std::string> with_closed_form;
  for (const auto* d : closed_forms()) with_closed_form.push_back(d->name);
  EXPECT_EQ(with_closed_form, (std::vector<std::string>{"banana", "gaussian_blobs", "energy1",
                                                        "energy2", "energy3", "energy4", "circles",
                                                        "8gaussians", "checkerboard", "rings"}));
  for (const auto& d : toy_densities()) {
    EXPECT_FALSE(d.description.empty()) << d.name;
    EXPECT_LT(d.range.x_min, d.range.x_max) << d.name;
    EXPECT_LT(d.range.y_min, d.range.y_max) << d.name;
    const bool target = d.name == "half_circle" || d.name[0] == 'u';
    EXPECT_EQ(static_cast<bool>(d.unnormalized_log_prob), d.log_prob || target) << d.name;
    EXPECT_EQ(static_cast<bool>(d.sample), d.name != "half_circle" && d.name[0] != 'u') << d.name;
  }
  EXPECT_FALSE(toy("pinwheel").log_prob);
  EXPECT_FALSE(toy("half_circle").log_prob);
}

TEST(ToyDensities, ClosedFormsIntegrateToOne) {
  torch::NoGradGuard no_grad;
  for (const auto* d : closed_forms()) {
    ASSERT_TRUE(support_boxes().count(d->name)) << d->name << " needs a support box";
    EXPECT_NEAR(testing::integrate(d->log_prob, support_boxes().at(d->name), 200), 1.0, 2e-3)
        << d->name;
  }
}

// Pearson's chi-square of 100k samples against the bin masses the density
// predicts (each of 40 x 40 bins integrated on a 5 x 5 sub-grid), fixed seed.
TEST(ToyDensities, SamplesMatchTheClosedForm) {
  torch::NoGradGuard no_grad;
  const int64_t bins = 40, sub = 5, n = 100000;
  for (const auto* d : closed_forms()) {
    auto x = d->sample(n, at::make_generator<at::CPUGeneratorImpl>(17));
    auto chi2 = testing::chi_square(d->log_prob, x, support_boxes().at(d->name), bins, sub);
    ASSERT_GT(chi2.dof, 50) << d->name;
    EXPECT_LT(chi2.statistic, chi2.threshold())
        << d->name << ": chi-square " << chi2.statistic << " on " << chi2.dof << " dof";
    EXPECT_GT(chi2.coverage, 0.99) << d->name;
  }
}

TEST(ToyDensities, ClosedFormsMatchHandComputedValues) {
  // Values from the formulas in toy.h evaluated with Python's math module (the
  // circles value by a 20000-point quadrature over the ring's angle).
  const std::vector<std::tuple<std::string, double, double, double>> cases = {
      {"banana", 1.0, -2.0, -4.761860693036029},     {"energy1", 1.0, -2.0, -6.7736708454255234},
      {"energy3", 0.8, -1.2, -4.105483469571133},    {"energy4", 1.0, 2.0, -3.46086742973943},
      {"8gaussians", 1.0, -2.0, -5.777103923607865}, {"circles", 2.0, 1.5, -5.197369126371402},
      {"checkerboard", 1.0, 1.0, -std::log(32.0)},   {"checkerboard", -3.0, 1.0, -std::log(32.0)},
  };
  for (const auto& [name, x1, x2, value] : cases)
    EXPECT_NEAR(toy(name).log_prob(torch::tensor({x1, x2}, torch::kFloat64)).item<double>(), value,
                1e-10)
        << name;
}

TEST(ToyDensities, SamplersAreSeededAndFinite) {
  for (const auto& d : toy_densities()) {
    if (!d.sample) continue;
    auto a = sample(d.name, 1000, 3);
    ASSERT_EQ(a.sizes(), torch::IntArrayRef({1000, 2})) << d.name;
    EXPECT_EQ(a.dtype(), torch::kFloat32) << d.name;
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>()) << d.name;
    EXPECT_TRUE(torch::equal(a, sample(d.name, 1000, 3))) << d.name;
    EXPECT_FALSE(torch::equal(a, sample(d.name, 1000, 4))) << d.name;
    EXPECT_EQ(d.sample(1, at::make_generator<at::CPUGeneratorImpl>(1)).sizes(),
              torch::IntArrayRef({1, 2}));
    // Samples are spread over the plotting range, not stuck in a corner.
    auto inside = (a.select(1, 0) >= d.range.x_min) & (a.select(1, 0) <= d.range.x_max) &
                  (a.select(1, 1) >= d.range.y_min) & (a.select(1, 1) <= d.range.y_max);
    EXPECT_GT(inside.to(torch::kFloat64).mean().item<double>(), 0.9) << d.name;
  }
}

// A density's samples lie in its support in float64 too: a float32 draw of
// x1 equal to float(3 pi / 2), above the double bound, once gave energy2 a
// -inf log density at one of 2e6 samples (seed 77), and the CLI's entropy
// estimate became null.
TEST(ToyDensities, SamplesLieInTheSupportInFloat64) {
  for (const auto& d : toy_densities()) {
    if (!d.sample || !d.log_prob) continue;
    auto x = sample(d.name, 2'000'000, 77).to(torch::kFloat64);
    EXPECT_TRUE(torch::isfinite(d.log_prob(x)).all().item<bool>()) << d.name;
  }
  // The ends of draw_uniform's interval, as float32 rounds them, stay inside.
  auto u = draw_uniform(1'000'000, -1.5 * M_PI, 1.5 * M_PI, at::make_generator<at::CPUGeneratorImpl>(1));
  EXPECT_LE(u.to(torch::kFloat64).abs().max().item<double>(), 1.5 * M_PI);
}

TEST(ToyDensities, TargetsMatchTheirFormulas) {
  // -U(z) from Rezende & Mohamed (2015) and log of the half-circle target, by
  // Python's math module, at (0.5, -1) and (1.2, -0.5).
  const std::map<std::string, std::pair<double, double>> expected = {
      {"u1", {-5.551966673952611, -2.420137269293408}},
      {"u2", {-9.106917382415919, -6.579890667133211}},
      {"u3", {-0.6956404257567268, -7.461315225291257}},
      {"u4", {-6.127935401829274, -1.147401138002072}},
      {"half_circle", {-0.7870394229091782, -1.2029300140968961}},
  };
  auto z = torch::tensor({{0.5, -1.0}, {1.2, -0.5}}, torch::kFloat64);
  for (const auto& [name, values] : expected) {
    const auto& d = toy(name);
    auto u = d.unnormalized_log_prob(z);
    EXPECT_NEAR(u[0].item<double>(), values.first, 1e-10) << name;
    EXPECT_NEAR(u[1].item<double>(), values.second, 1e-10) << name;
    auto points = testing::grid_midpoints(d.range, 200).first;
    EXPECT_TRUE(torch::isfinite(d.unnormalized_log_prob(points)).all().item<bool>()) << name;
  }
}

TEST(ToyDensities, HalfCircleHasTheKnownNormaliser) {
  // Z = sqrt(2 pi) (2 Phi(pi) - 1) (s^2 exp(-1/(2 s^2)) + s sqrt(2 pi) Phi(1/s)), s = 0.2.
  torch::NoGradGuard no_grad;
  auto [points, area] = testing::grid_midpoints({-2, 2, -2, 2}, 400);
  const double z =
      (toy("half_circle").unnormalized_log_prob(points).exp().sum() * area).item<double>();
  EXPECT_NEAR(z, 1.2545255270663038, 2e-3);
}

TEST(ToyDensities, NormalisedDensitiesAreTheirOwnTargets) {
  auto x = torch::randn({5, 2}, torch::kFloat64) * 2;
  for (const auto* d : closed_forms())
    EXPECT_TRUE(torch::equal(d->log_prob(x), d->unnormalized_log_prob(x))) << d->name;
}

// Monte Carlo differential entropy E[-log p(x)] and its standard error.
std::pair<double, double> entropy(const std::string& name, int64_t n, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto neg = -toy(name).log_prob(sample(name, n, seed).to(torch::kFloat64));
  return {neg.mean().item<double>(), neg.std().item<double>() / std::sqrt(double(n))};
}

TEST(ToyDensities, EntropyMatchesReference) {
  // banana: H(x2) + H(x1 | x2) = log(2 pi e sqrt(3) sqrt(3)/2), exactly.
  auto [banana, banana_se] = entropy("banana", 200000, 5);
  EXPECT_NEAR(banana, std::log(2 * M_PI * M_E * 1.5), 5 * banana_se);
  // gaussian_blobs: 1e6-sample estimate 2.47971 +- 0.00092 (seed 1, docs/data.md).
  auto [blobs, blobs_se] = entropy("gaussian_blobs", 200000, 5);
  EXPECT_NEAR(blobs, 2.47971, 5 * std::hypot(blobs_se, 0.00092));
}

TEST(ToyDensities, Float32AndFloat64AnyBatchShape) {
  auto x64 =
      torch::randn({3, 4, 2}, at::make_generator<at::CPUGeneratorImpl>(2)).to(torch::kFloat64);
  for (const auto& d : toy_densities()) {
    if (!d.unnormalized_log_prob) continue;
    auto lp64 = d.unnormalized_log_prob(x64);
    auto lp32 = d.unnormalized_log_prob(x64.to(torch::kFloat32));
    EXPECT_EQ(lp64.sizes(), torch::IntArrayRef({3, 4})) << d.name;
    EXPECT_EQ(lp64.dtype(), torch::kFloat64) << d.name;
    EXPECT_EQ(lp32.dtype(), torch::kFloat32) << d.name;
    EXPECT_FALSE(torch::isnan(lp64).any().item<bool>()) << d.name;
    auto finite = torch::isfinite(lp64);
    EXPECT_TRUE(torch::equal(finite, torch::isfinite(lp32))) << d.name;
    EXPECT_TRUE(torch::allclose(lp32.to(torch::kFloat64).masked_select(finite),
                                lp64.masked_select(finite), 1e-5, 1e-4))
        << d.name;
    EXPECT_EQ(d.unnormalized_log_prob(torch::tensor({0.5, 0.25})).dim(), 0) << d.name;
  }
}

TEST(ToyDensities, OutOfSupportAndNonFiniteInputs) {
  const double inf = INFINITY;
  auto x = torch::tensor({{inf, 0.0}, {0.0, -inf}, {inf, -inf}, {-inf, 1e30}}, torch::kFloat64);
  for (const auto& d : toy_densities()) {
    if (!d.unnormalized_log_prob) continue;
    auto lp = d.unnormalized_log_prob(x);
    EXPECT_TRUE((lp == -inf).all().item<bool>()) << d.name << ": " << lp;
    auto nan = d.unnormalized_log_prob(torch::tensor({std::nan(""), 0.0}));
    EXPECT_TRUE(torch::isnan(nan).item<bool>()) << d.name;
    // No NaN gradients from the masked branches.
    auto point = torch::tensor({{0.3, -0.7}, {inf, 1.0}}, torch::kFloat64).requires_grad_();
    d.unnormalized_log_prob(point).sum().backward();
    EXPECT_TRUE(torch::isfinite(point.grad()).all().item<bool>()) << d.name;
  }
  for (const char* name : {"energy2", "energy3", "energy4"}) {
    auto lp = toy(name).log_prob(torch::tensor({{5.0, 0.0}, {-4.8, 0.0}, {4.7, 0.0}}));
    EXPECT_EQ(lp[0].item<double>(), -inf) << name;
    EXPECT_EQ(lp[1].item<double>(), -inf) << name;
    EXPECT_TRUE(std::isfinite(lp[2].item<double>())) << name;
  }
  auto board = toy("checkerboard").log_prob(torch::tensor({{3.0, 1.0}, {5.0, 1.0}, {1.0, -1.0}}));
  EXPECT_TRUE((board == -inf).all().item<bool>()) << board;
}

TEST(ToyDensities, ErrorsNameTheArgument) {
  expect_error([] { toy("banan"); }, {"toy", "'name'", "banana", "2spirals", "u4", "'banan'"});
  expect_error([] { sample("banana", 0, 1); }, {"toy 'banana'", "'n'", "positive", "0"});
  expect_error([] { toy("rings").sample(-2, at::make_generator<at::CPUGeneratorImpl>(1)); },
               {"toy 'rings'", "'n'", "-2"});
  expect_error([] { sample("u1", 10, 1); }, {"toy 'u1'", "sampler"});
  expect_error(
      [] {
        toy("banana").log_prob(torch::zeros({4, 3}));
      },
      {"toy 'banana'", "'x'", "event size 3", "event size 2"});
  expect_error(
      [] {
        toy("u2").unnormalized_log_prob(torch::zeros({4, 2}, torch::kLong));
      },
      {"toy 'u2'", "'x'", "floating-point"});
  expect_error([] { toy("circles").log_prob(torch::tensor(1.0)); }, {"'x'", "dimension"});
}

}  // namespace
}  // namespace diffeo::data
