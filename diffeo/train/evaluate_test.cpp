// train::mean_estimate, log_prob_in_chunks and compare_with_truth: the
// numbers, a model that is its own truth, chunking that changes nothing.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;

TEST(MeanEstimate, MeanAndStandardErrorInFloat64) {
  const auto e = mean_estimate(torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}));
  EXPECT_DOUBLE_EQ(e.mean, 2.5);
  // Unbiased variance 5/3, so the error is sqrt(5/3 / 4).
  EXPECT_DOUBLE_EQ(e.standard_error, std::sqrt(5.0 / 12.0));
  // Integers and any shape are fine; float64 keeps what float32 would round away.
  EXPECT_DOUBLE_EQ(mean_estimate(torch::tensor({{1, 2}, {3, 6}})).mean, 3.0);
  const auto big = torch::tensor({1e8 + 1, 1e8 + 2}, torch::kFloat64);
  EXPECT_DOUBLE_EQ(mean_estimate(big).mean, 1e8 + 1.5);
}

TEST(MeanEstimate, OneValueHasNoErrorAndEmptyIsRefused) {
  const auto e = mean_estimate(torch::tensor({7.0}));
  EXPECT_DOUBLE_EQ(e.mean, 7.0);
  EXPECT_TRUE(std::isnan(e.standard_error));
  EXPECT_TRUE(std::isinf(
      mean_estimate(torch::tensor({1.0, std::numeric_limits<double>::infinity()})).mean));
  expect_error([] { mean_estimate(torch::zeros({0})); }, {"mean_estimate", "'values'", "empty"});
  expect_error([] { mean_estimate(torch::Tensor()); }, {"mean_estimate", "'values'"});
}

TEST(InChunks, CoversEveryRowOnceInOrder) {
  std::vector<std::pair<int64_t, int64_t>> calls;
  const auto out = in_chunks(10, 3, [&](int64_t start, int64_t rows) {
    calls.emplace_back(start, rows);
    return torch::arange(start, start + rows, torch::kFloat64).unsqueeze(1).repeat({1, 2});
  });
  const std::vector<std::pair<int64_t, int64_t>> expected{{0, 3}, {3, 3}, {6, 3}, {9, 1}};
  EXPECT_EQ(calls, expected);
  EXPECT_TRUE(torch::equal(out.select(1, 1), torch::arange(10, torch::kFloat64)));
  // No rows: one empty block, whose shape and dtype the result has.
  const auto none = in_chunks(0, 3, [](int64_t start, int64_t rows) {
    return torch::zeros({rows, 2}, torch::kFloat64) + start;
  });
  EXPECT_EQ(none.sizes(), torch::IntArrayRef({0, 2}));
  EXPECT_EQ(none.scalar_type(), torch::kFloat64);
  expect_error([] { in_chunks(-1, 3, [](int64_t, int64_t) { return torch::zeros({1}); }); },
               {"in_chunks", "'n'", ">= 0", "-1"});
  expect_error([] { in_chunks(5, 0, [](int64_t, int64_t) { return torch::zeros({1}); }); },
               {"in_chunks", "'chunk'", "positive"});
}

// N(loc, diag(scale^2)) as a flow, and its closed-form log density.
struct Gaussian {
  torch::Tensor loc, scale;
  Transformed model;

  explicit Gaussian(torch::Dtype dtype)
      : loc(torch::tensor({1.0, -2.0}, dtype)),
        scale(torch::tensor({0.5, 3.0}, dtype)),
        model(StandardNormal(2), Chain({Shift(loc), Scale(scale)})) {
    model->to(dtype);
  }

  torch::Tensor log_prob(const torch::Tensor& x) const {
    const auto z = (x - loc.to(x.dtype())) / scale.to(x.dtype());
    return (-0.5 * z * z - torch::log(scale.to(x.dtype())) - 0.5 * std::log(2 * M_PI)).sum(-1);
  }
};

TEST(CompareWithTruth, AModelThatIsTheTruthHasZeroKlAndEntropyEqualToNll) {
  Gaussian g(torch::kFloat64);
  auto x = g.model->sample(5000, {}, at::make_generator<at::CPUGeneratorImpl>(1)).detach();
  const auto c =
      compare_with_truth(g.model, x, [&](const torch::Tensor& t) { return g.log_prob(t); });
  ASSERT_TRUE(c.has_truth);
  EXPECT_EQ(c.non_finite, 0);
  EXPECT_NEAR(c.kl.mean, 0.0, 1e-13);
  EXPECT_NEAR(c.kl.standard_error, 0.0, 1e-13);
  EXPECT_NEAR(c.entropy.mean, c.nll.mean, 1e-13);
  EXPECT_NEAR(c.entropy.standard_error, c.nll.standard_error, 1e-13);
  // The Gaussian's entropy, d/2 (1 + log 2 pi) + sum log scale = 3.2907, within 4 errors.
  const double entropy = 1 + std::log(2 * M_PI) + std::log(0.5) + std::log(3.0);
  EXPECT_NEAR(c.nll.mean, entropy, 4 * c.nll.standard_error);
  EXPECT_GT(c.nll.standard_error, 0.005);
  EXPECT_LT(c.nll.standard_error, 0.02);
}

TEST(CompareWithTruth, AWrongModelHasThePositiveKlOfItsShift) {
  // Model N(loc, .) scored on draws of N(loc + (0.5, 0), .): KL = 0.5^2 / (2 * 0.5^2) = 0.5.
  Gaussian g(torch::kFloat64);
  auto x = g.model->sample(20000, {}, at::make_generator<at::CPUGeneratorImpl>(2)).detach() +
           torch::tensor({0.5, 0.0}, torch::kFloat64);
  const auto c = compare_with_truth(g.model, x, [&](const torch::Tensor& t) {
    return g.log_prob(t - torch::tensor({0.5, 0.0}, torch::kFloat64));
  });
  EXPECT_NEAR(c.kl.mean, 0.5, 4 * c.kl.standard_error);
  EXPECT_NEAR(c.nll.mean - c.entropy.mean, c.kl.mean, 1e-12);
}

TEST(CompareWithTruth, WithoutTruthOnlyTheNll) {
  Gaussian g(torch::kFloat64);
  auto x = torch::zeros({3, 2}, torch::kFloat64);
  x[1][0] = INFINITY;
  const auto c = compare_with_truth(g.model, x, {});
  EXPECT_FALSE(c.has_truth);
  EXPECT_EQ(c.non_finite, 1);
  EXPECT_TRUE(std::isinf(c.nll.mean));
  EXPECT_TRUE(std::isnan(c.kl.mean));
  EXPECT_TRUE(std::isnan(c.entropy.mean));
  expect_error(
      [&] {
        compare_with_truth(g.model, torch::zeros({0, 2}), {});
      },
      {"compare_with_truth", "'x'", "at least one row", "[0, 2]"});
}

TEST(LogProbInChunks, ChunksGiveTheOnePassResultInFloat64) {
  Gaussian g(torch::kFloat32);
  const auto x = torch::randn({1003, 2}, torch::kFloat64) * 2;
  EXPECT_EQ(log_prob_in_chunks(g.model, x.narrow(0, 0, 0), 100).sizes(), torch::IntArrayRef({0}));
  const auto chunked = log_prob_in_chunks(g.model, x, 100);
  const auto whole = log_prob_in_chunks(g.model, x);
  EXPECT_EQ(chunked.scalar_type(), torch::kFloat64);
  EXPECT_EQ(chunked.sizes(), torch::IntArrayRef({1003}));
  EXPECT_TRUE(torch::equal(chunked, whole));
  // The float64 rows were scored by the float32 model.
  torch::Tensor direct;
  {
    torch::NoGradGuard no_grad;
    direct = g.model->log_prob(x.to(torch::kFloat32)).to(torch::kFloat64);
  }
  EXPECT_TRUE(torch::equal(chunked, direct));
  auto truth = [&](const torch::Tensor& t) { return g.log_prob(t); };
  const auto a = compare_with_truth(g.model, x, truth, 7);
  const auto b = compare_with_truth(g.model, x, truth);
  EXPECT_EQ(a.nll.mean, b.nll.mean);
  EXPECT_EQ(a.kl.mean, b.kl.mean);
  EXPECT_EQ(a.entropy.standard_error, b.entropy.standard_error);
  // float32 rounding only: the model is the truth.
  EXPECT_NEAR(a.kl.mean, 0.0, 1e-6);
}

}  // namespace
}  // namespace diffeo::train
