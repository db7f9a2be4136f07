// ActNorm, LULinear, BatchNorm and RandomPermutation through the generic
// property harness, then ActNorm's and BatchNorm's own behaviour.

#include <gtest/gtest.h>

#include <sstream>

#include "diffeo/bijectors/act_norm.h"
#include "diffeo/bijectors/batch_norm.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/lu_linear.h"
#include "diffeo/bijectors/random_permutation.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::BijectorCase;
using testing::expect_error;

// A batch far from standard: per-feature means (1, -2, 0.5) and scales (2, 0.5, 3).
torch::Tensor skewed_batch(int64_t n, torch::ScalarType dtype = torch::kFloat) {
  auto options = torch::TensorOptions().dtype(dtype);
  return torch::randn({n, 3}, options) * torch::tensor({2.0, 0.5, 3.0}, options) +
         torch::tensor({1.0, -2.0, 0.5}, options);
}

ActNorm initialized_act_norm() {
  ActNorm act_norm(3);
  act_norm->inverse(skewed_batch(64));
  return act_norm;
}

// Moves every parameter away from its initial value, so no factor is trivial.
template <typename Holder>
Holder perturbed(Holder module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module->parameters()) p.add_(0.3 * torch::randn_like(p));
  return module;
}

BatchNorm evaluating_batch_norm() {
  auto batch_norm = perturbed(BatchNorm(3));
  {
    torch::NoGradGuard no_grad;
    batch_norm->running_mean().copy_(torch::tensor({0.5, -1.0, 2.0}));
    batch_norm->running_var().copy_(torch::tensor({4.0, 0.25, 1.5}));
  }
  batch_norm->eval();
  return batch_norm;
}

std::vector<BijectorCase> normalization_cases() {
  const auto huge3 = torch::tensor({{1e8, -1e8, 0.0}, {-1e8, 1e-300, 1e8}}, torch::kFloat64);
  const auto huge4 = torch::tensor({{1e8, -1e8, 0.0, 1.0}, {-1e8, 1e-300, 1e8, 1e8}});
  return {
      {"ActNorm", [] { return Bijector(initialized_act_norm()); }, {3}, {}, {huge3}},
      {"LULinear",
       [] { return Bijector(perturbed(LULinear(LULinearOptions(4).seed(3)))); },
       {4},
       {},
       {huge4}},
      {"LULinearIdentityNoBias",
       [] {
         return Bijector(perturbed(LULinear(LULinearOptions(3).identity_init(true).bias(false))));
       },
       {3},
       {},
       {huge3}},
      {"LULinearDim1", [] { return Bijector(perturbed(LULinear(1))); }, {1}},
      {"BatchNormEval", [] { return Bijector(evaluating_batch_norm()); }, {3}, {}, {huge3}},
      {"RandomPermutation", [] { return Bijector(RandomPermutation(5, 7)); }, {5}},
      {"ChainMAFGlue",
       [] {
         return Bijector(
             Chain({evaluating_batch_norm(), RandomPermutation(3, 1),
                    perturbed(LULinear(LULinearOptions(3).seed(5))), initialized_act_norm()}));
       },
       {3},
       {},
       {huge3}},
  };
}

class NormalizationProperties : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(NormalizationProperties, All) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Normalization, NormalizationProperties,
                         ::testing::ValuesIn(normalization_cases()),
                         [](const auto& info) { return info.param.name; });

// Biased standard deviation over all rows.
torch::Tensor population_std(const torch::Tensor& rows) {
  return rows.std(/*dim=*/0, /*unbiased=*/false);
}

TEST(ActNorm, InitialisationStandardisesTheFirstBatch) {
  torch::manual_seed(10);
  ActNorm act_norm(3);
  act_norm->to(torch::kFloat64);
  EXPECT_FALSE(act_norm->initialized());
  auto y = skewed_batch(500, torch::kFloat64).reshape({10, 50, 3});  // two batch dims
  auto r = act_norm->inverse_and_log_det(y);
  EXPECT_TRUE(act_norm->initialized());
  auto rows = r.output.reshape({-1, 3});
  EXPECT_LT(rows.mean(0).abs().max().item<double>(), 1e-12);
  // std / (std + 1e-6), with std >= 0.4 here.
  EXPECT_LT((population_std(rows) - 1).abs().max().item<double>(), 3e-6);
  auto std = population_std(y.reshape({-1, 3}));
  EXPECT_TRUE(torch::allclose(act_norm->loc(), y.reshape({-1, 3}).mean(0), 0, 1e-12));
  EXPECT_TRUE(torch::allclose(act_norm->scale(), std + 1e-6, 1e-12, 0));
  ASSERT_EQ(r.log_det.sizes(), torch::IntArrayRef({10, 50}));
  EXPECT_NEAR(r.log_det[3][7].item<double>(), -torch::log(std + 1e-6).sum().item<double>(), 1e-12);
  // The second batch does not initialise again.
  auto loc = act_norm->loc().clone();
  act_norm->inverse(skewed_batch(20, torch::kFloat64) * 5);
  EXPECT_TRUE(torch::equal(act_norm->loc(), loc));
}

TEST(ActNorm, IsTheIdentityUntilInitialisedAndEvalDoesNotInitialise) {
  ActNorm act_norm(3);
  auto x = skewed_batch(8);
  auto forward = act_norm->forward_and_log_det(x);  // forward never initialises
  EXPECT_TRUE(torch::equal(forward.output, x));
  EXPECT_TRUE(torch::equal(forward.log_det, torch::zeros({8})));
  act_norm->eval();
  EXPECT_TRUE(torch::equal(act_norm->inverse(x), x));
  EXPECT_FALSE(act_norm->initialized());
  act_norm->train();
  act_norm->inverse(x);
  EXPECT_TRUE(act_norm->initialized());
}

TEST(ActNorm, FlagSurvivesSaveLoadAndDtypeChanges) {
  torch::manual_seed(11);
  auto saved = initialized_act_norm();
  std::stringstream archive;
  torch::save(saved, archive);

  ActNorm loaded(3);
  torch::load(loaded, archive);
  EXPECT_TRUE(loaded->initialized());
  loaded->inverse(skewed_batch(32) * 10 + 4);  // would move loc and scale if it initialised
  EXPECT_TRUE(torch::equal(loaded->loc(), saved->loc()));
  EXPECT_TRUE(torch::equal(loaded->log_scale(), saved->log_scale()));
  EXPECT_FALSE(torch::equal(saved->loc(), torch::zeros({3})));

  loaded->to(torch::kFloat64);
  EXPECT_TRUE(loaded->initialized());
  loaded->to(torch::kFloat);
  EXPECT_TRUE(loaded->initialized());
}

TEST(ActNorm, RefusesBadArguments) {
  expect_error([] { ActNorm(0); }, {"ActNorm", "'dim'", "positive", "0"});
  expect_error([] { ActNorm(3, -1.0); }, {"ActNorm", "'eps'", "> 0", "-1"});
  expect_error(
      [] {
        ActNorm(3)->inverse(torch::randn({1, 3}));
      },
      {"ActNorm", "'y'", "at least 2 samples", "[1, 3]"});
  expect_error(
      [] {
        ActNorm(3)->forward(torch::randn({4, 2}));
      },
      {"ActNorm", "'x'", "event size 2", "event size 3"});
}

TEST(BatchNorm, TrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  torch::manual_seed(12);
  BatchNorm batch_norm(BatchNormOptions(3).momentum(0.2));
  batch_norm->to(torch::kFloat64);
  auto y = skewed_batch(400, torch::kFloat64);
  auto r = batch_norm->inverse_and_log_det(y.reshape({20, 20, 3}));
  auto mean = y.mean(0), var = y.var(0, /*unbiased=*/false);
  auto rows = r.output.reshape({-1, 3});
  EXPECT_LT(rows.mean(0).abs().max().item<double>(), 1e-12);
  EXPECT_TRUE(torch::allclose(rows.var(0, false), var / (var + 1e-5), 1e-12, 0));
  EXPECT_NEAR(r.log_det[4][2].item<double>(), -0.5 * torch::log(var + 1e-5).sum().item<double>(),
              1e-12);
  EXPECT_TRUE(torch::allclose(batch_norm->running_mean(), 0.2 * mean, 1e-12, 1e-15));
  EXPECT_TRUE(torch::allclose(batch_norm->running_var(), 0.8 + 0.2 * var, 1e-12, 0));
  // Batch statistics feed the gradient: the outputs' mean is 0 whatever y is.
  auto y2 = y.clone().requires_grad_(true);
  batch_norm->inverse(y2).sum(0)[1].backward();
  EXPECT_LT(y2.grad().abs().max().item<double>(), 1e-12);
}

TEST(BatchNorm, EvalUsesRunningStatistics) {
  torch::manual_seed(13);
  auto batch_norm = evaluating_batch_norm();
  batch_norm->to(torch::kFloat64);
  auto y = skewed_batch(50, torch::kFloat64);
  auto r = batch_norm->inverse_and_log_det(y);
  auto m = batch_norm->running_mean(), v = batch_norm->running_var() + 1e-5;
  auto g = batch_norm->log_gamma(), b = batch_norm->beta();
  auto expected = (y - m) / torch::sqrt(v) * torch::exp(g) + b;
  EXPECT_TRUE(torch::allclose(r.output, expected, 1e-13, 1e-13));
  EXPECT_NEAR(r.log_det[0].item<double>(), (g - 0.5 * torch::log(v)).sum().item<double>(), 1e-13);
  EXPECT_TRUE(torch::equal(batch_norm->running_mean(), m));
  EXPECT_EQ(batch_norm->running_var()[1].item<double>(), 0.25);
}

TEST(BatchNorm, ForwardUsesRunningStatisticsEvenInTraining) {
  torch::manual_seed(14);
  auto batch_norm = evaluating_batch_norm();
  batch_norm->to(torch::kFloat64);
  batch_norm->train();
  auto x = torch::randn({6, 3}, torch::kFloat64);
  auto r = batch_norm->forward_and_log_det(x);
  auto m = batch_norm->running_mean(), v = batch_norm->running_var() + 1e-5;
  auto g = batch_norm->log_gamma(), b = batch_norm->beta();
  EXPECT_TRUE(torch::allclose(r.output, (x - b) * torch::exp(-g) * torch::sqrt(v) + m, 1e-13, 0));
  EXPECT_NEAR(r.log_det[5].item<double>(), -(g - 0.5 * torch::log(v)).sum().item<double>(), 1e-13);
  EXPECT_EQ(batch_norm->running_var()[1].item<double>(), 0.25);  // forward updates nothing
  batch_norm->eval();
  EXPECT_TRUE(torch::allclose(batch_norm->inverse(r.output), x, 1e-13, 1e-13));
}

TEST(BatchNorm, RefusesBadArguments) {
  expect_error([] { BatchNorm(0); }, {"BatchNorm", "'dim'", "positive", "0"});
  expect_error([] { BatchNorm(BatchNormOptions(2).momentum(1.5)); },
               {"BatchNorm", "'momentum'", "[0, 1]", "1.5"});
  expect_error([] { BatchNorm(BatchNormOptions(2).eps(0)); }, {"BatchNorm", "'eps'", "> 0", "0"});
  expect_error([] { BatchNorm(2)->inverse(torch::randn({2})); },
               {"BatchNorm", "'y'", "at least 2 samples", "[2]", "eval()"});
}

}  // namespace
}  // namespace diffeo
