// train::mmd_squared: hand-computed values, a brute-force double loop, chunking
// and argument order that change nothing, near 0 for one distribution and
// clearly positive for shifted ones, and errors for bad input.

#include "diffeo/train/mmd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

double kernel(const std::vector<InverseMultiquadric>& terms, double r2) {
  double k = 0;
  for (const auto& t : terms) k += std::pow(t.exponent * t.c / (t.c + r2), t.exponent);
  return k;
}

// MMD^2 by the definition, one pair at a time.
double brute_force(const torch::Tensor& a, const torch::Tensor& b,
                   const std::vector<InverseMultiquadric>& terms, bool unbiased) {
  auto mean_kernel = [&](const torch::Tensor& x, const torch::Tensor& y, bool skip_self) {
    double sum = 0, pairs = 0;
    for (int64_t i = 0; i < x.size(0); ++i)
      for (int64_t j = 0; j < y.size(0); ++j) {
        if (skip_self && i == j) continue;
        sum += kernel(terms, (x[i] - y[j]).square().sum().item<double>());
        pairs += 1;
      }
    return sum / pairs;
  };
  return mean_kernel(a, a, unbiased) + mean_kernel(b, b, unbiased) - 2 * mean_kernel(a, b, false);
}

TEST(Mmd, HintKernelAndHandComputedValue) {
  const auto terms = hint_kernel();
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].c, 0.5);
  EXPECT_EQ(terms[0].exponent, 1.0);
  EXPECT_EQ(terms[1].c, 0.2);
  EXPECT_EQ(terms[1].exponent, 1.0);
  EXPECT_EQ(terms[2].c, 0.2);
  EXPECT_EQ(terms[2].exponent, 0.5);
  // One point each, at squared distance 1: 2 k(0) - 2 k(1) with
  // k(0) = 1 + 1 + sqrt(0.5) and k(1) = 0.5 / 1.5 + 0.2 / 1.2 + sqrt(0.1 / 1.2).
  const double k0 = 2 + std::sqrt(0.5), k1 = 0.5 / 1.5 + 0.2 / 1.2 + std::sqrt(0.1 / 1.2);
  const auto a = torch::tensor({{0.0, 0.0}}, torch::kFloat64);
  const auto b = torch::tensor({{0.6, 0.8}}, torch::kFloat64);
  EXPECT_NEAR(mmd_squared(a, b), 2 * k0 - 2 * k1, 1e-14);
  EXPECT_EQ(mmd_squared(a, a), 0.0);
}

TEST(Mmd, EqualsTheDoubleLoopForBothEstimates) {
  // Far from the origin, where |x|^2 + |y|^2 - 2 x.y would cancel without centring.
  const auto a = torch::randn({7, 3}, seeded(1), torch::kFloat64) + 100;
  const auto b = 1.5 * torch::randn({5, 3}, seeded(2), torch::kFloat64) + 100.5;
  const std::vector<InverseMultiquadric> custom = {{1.3, 1.0}, {0.4, 2.5}};
  for (const auto& terms : {hint_kernel(), custom})
    for (const bool unbiased : {false, true}) {
      const auto options = MmdOptions().kernel(terms).estimate(unbiased ? MmdEstimate::kUnbiased
                                                                        : MmdEstimate::kBiased);
      const double expected = brute_force(a, b, terms, unbiased);
      EXPECT_NEAR(mmd_squared(a, b, options), expected, 1e-12 * std::abs(expected) + 1e-14)
          << unbiased;
    }
}

TEST(Mmd, ChunkingAndArgumentOrderChangeNothing) {
  const auto a = torch::randn({50, 4}, seeded(3), torch::kFloat64);
  const auto b = torch::randn({31, 4}, seeded(4), torch::kFloat64) + 0.3;
  for (const auto estimate : {MmdEstimate::kBiased, MmdEstimate::kUnbiased}) {
    const double whole = mmd_squared(a, b, MmdOptions().estimate(estimate).chunk(1000));
    for (const int64_t chunk : {1, 7, 50})
      EXPECT_NEAR(mmd_squared(a, b, MmdOptions().estimate(estimate).chunk(chunk)), whole, 1e-14)
          << chunk;
    EXPECT_NEAR(mmd_squared(b, a, MmdOptions().estimate(estimate)), whole, 1e-14);
  }
  // float32 input is computed in float64: the same as converting first.
  const auto a32 = a.to(torch::kFloat32), b32 = b.to(torch::kFloat32);
  EXPECT_EQ(mmd_squared(a32, b32), mmd_squared(a32.to(torch::kFloat64), b32.to(torch::kFloat64)));
}

TEST(Mmd, NearZeroForOneDistributionAndPositiveForAShift) {
  // 400 draws each of N(0, I_4).  Under equal distributions the unbiased
  // estimate scatters with an rms of 1.3e-3 (at most 3.8e-3 over 40 seeds); a
  // shift of 0.5 per coordinate gives about 0.03 (at least 0.029 over those seeds).
  const auto unbiased = MmdOptions().estimate(MmdEstimate::kUnbiased);
  const auto a = torch::randn({400, 4}, seeded(5), torch::kFloat64);
  const auto b = torch::randn({400, 4}, seeded(6), torch::kFloat64);
  const double same = mmd_squared(a, b, unbiased);
  const double shifted = mmd_squared(a, b + 0.5, unbiased);
  EXPECT_LT(std::abs(same), 6e-3);
  EXPECT_GT(shifted, 0.02);
  // The biased estimate adds the self-pairs: positive, and above the unbiased one here.
  const double biased = mmd_squared(a, b);
  EXPECT_GT(biased, 0);
  EXPECT_GT(biased, same);
}

TEST(Mmd, RefusesBadInput) {
  const auto a = torch::randn({5, 2}), b = torch::randn({4, 2});
  expect_error([&] { mmd_squared(torch::randn({5}), b); },
               {"mmd_squared", "'a'", "[rows, d]", "got shape [5]"});
  expect_error(
      [&] {
        mmd_squared(a, torch::randn({4, 3}));
      },
      {"mmd_squared", "'a'", "[5, 2]", "[4, 3]", "same number of columns"});
  expect_error(
      [&] {
        mmd_squared(a, torch::zeros({0, 2}));
      },
      {"mmd_squared", "'b'", "at least 1 row", "[0, 2]"});
  expect_error(
      [&] { mmd_squared(a, b.narrow(0, 0, 1), MmdOptions().estimate(MmdEstimate::kUnbiased)); },
      {"mmd_squared", "'b'", "at least 2 row", "[1, 2]"});
  expect_error(
      [&] {
        mmd_squared(a, torch::ones({4, 2}, torch::kLong));
      },
      {"mmd_squared", "'b'", "floating-point"});
  expect_error([&] { mmd_squared(a, b, MmdOptions().kernel({})); },
               {"mmd_squared", "'kernel'", "no terms"});
  expect_error(
      [&] {
        mmd_squared(a, b, MmdOptions().kernel({{0.0, 1.0}}));
      },
      {"mmd_squared", "'kernel'", "c = 0", "exponent = 1"});
  expect_error(
      [&] {
        mmd_squared(a, b, MmdOptions().kernel({{1.0, -0.5}}));
      },
      {"mmd_squared", "'kernel'", "c = 1", "exponent = -0.5"});
  expect_error([&] { mmd_squared(a, b, MmdOptions().chunk(0)); },
               {"mmd_squared", "'chunk'", "positive", "0"});
}

}  // namespace
}  // namespace diffeo::train
