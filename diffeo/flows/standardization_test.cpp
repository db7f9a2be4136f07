// flows::standardization_of and the build overload that uses it.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::flows {
namespace {

using testing::expect_error;

TEST(StandardizationOf, PerColumnMeanAndUnbiasedStandardDeviation) {
  const auto rows = torch::tensor({{1.0f, 10.0f}, {3.0f, 10.5f}, {5.0f, 11.0f}});
  const auto s = standardization_of(rows, "rows");
  ASSERT_EQ(s.mean.size(), 2u);
  EXPECT_DOUBLE_EQ(s.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(s.mean[1], 10.5);
  EXPECT_DOUBLE_EQ(s.scale[0], 2.0);  // sqrt((4 + 0 + 4) / 2)
  EXPECT_DOUBLE_EQ(s.scale[1], 0.5);
  // Integer data is read in float64 too.
  const auto i = standardization_of(torch::tensor({{1, 7}, {2, 9}}, torch::kLong), "ints");
  EXPECT_DOUBLE_EQ(i.mean[1], 8.0);
  EXPECT_DOUBLE_EQ(i.scale[0], std::sqrt(0.5));
}

TEST(StandardizationOf, RefusesConstantNonFiniteAndTooFewRows) {
  const auto constant = torch::tensor({{1.0, 4.0}, {2.0, 4.0}, {3.0, 4.0}});
  expect_error(
      [&] { standardization_of(constant, "the pilot sample of 'x'"); },
      {"standardization_of", "column 2 of the pilot sample of 'x'", "constant", "4 in every row"});
  auto with_nan = torch::tensor({{1.0, 4.0}, {2.0, 5.0}});
  with_nan[1][0] = NAN;
  expect_error([&] { standardization_of(with_nan, "'d.csv'"); },
               {"column 1 of 'd.csv'", "not finite", "nan"});
  auto with_inf = torch::tensor({{1.0, 4.0}, {2.0, 5.0}});
  with_inf[0][1] = INFINITY;
  expect_error([&] { standardization_of(with_inf, "'d.csv'"); },
               {"column 2 of 'd.csv'", "not finite"});
  expect_error(
      [] {
        standardization_of(torch::ones({1, 2}), "one row");
      },
      {"standardization_of", "'rows' (one row)", "at least 2 rows", "[1, 2]"});
  expect_error([] { standardization_of(torch::ones({4}), "a vector"); }, {"[4]"});
}

TEST(StandardizationOf, BuildRecordsItInTheSpecAndLogProb) {
  const Standardization s{{1.0, -2.0}, {2.0, 0.5}};
  const auto options = FlowOptions(2).layers(1).hidden({8});
  auto flow = build("maf", options, s);
  EXPECT_EQ(flow->spec()["standardize"]["mean"], json({1.0, -2.0}));
  EXPECT_EQ(flow->spec()["standardize"]["scale"], json({2.0, 0.5}));
  // Same inner flow, so the log densities differ by the Jacobian at the mapped points.
  auto plain = build("maf", options);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({5, 2});
  const auto z = (x - torch::tensor({1.0f, -2.0f})) / torch::tensor({2.0f, 0.5f});
  EXPECT_TRUE(
      torch::allclose(flow->log_prob(x), plain->log_prob(z) - std::log(2.0 * 0.5), 1e-5, 1e-5));
}

TEST(Standardized, IsTheFlowBuiltWithItSharingTheWeights) {
  const Standardization s{{1.0, -2.0}, {2.0, 0.5}};
  const auto options = FlowOptions(2).layers(2).hidden({8});
  auto plain = build("realnvp", options);
  plain->eval();
  auto flow = standardized(plain, s.mean, s.scale);
  auto built = build("realnvp", options, s);
  EXPECT_EQ(flow->spec(), built->spec());
  EXPECT_FALSE(flow->is_training());
  // The same tensors as plain's (an optimizer on them keeps working), named as built's.
  const auto weights = plain->parameters();
  const auto named = flow->named_parameters();
  ASSERT_EQ(named.size(), weights.size());
  ASSERT_EQ(named.keys(), built->named_parameters().keys());
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_TRUE(named[i].value().is_same(weights[i])) << named[i].key();
  const auto x = torch::randn({6, 2});
  EXPECT_TRUE(torch::equal(flow->log_prob(x), built->log_prob(x)));
  // In the flow's dtype; refused twice, on a logit flow and with a bad scale.
  auto wide = build("maf", options);
  wide->to(torch::kFloat64);
  EXPECT_EQ(standardized(wide, s.mean, s.scale)->log_prob(x.to(torch::kFloat64)).dtype(),
            torch::kFloat64);
  expect_error([&] { standardized(flow, s.mean, s.scale); }, {"already has 'standardize'"});
  auto logit =
      build(json{{"flow", "maf"}, {"options", to_json(options)}, {"logit", {{"lambda", 1e-6}}}});
  expect_error([&] { standardized(logit, s.mean, s.scale); }, {"already has 'logit'"});
  expect_error([&] { standardized(plain, s.mean, {1.0, 0.0}); }, {"scale must be positive", "0"});
  expect_error([&] { standardized(plain, {1.0}, {1.0}); }, {"needs 2 means and scales"});
}

// A conditional flow standardising its context hands the conditioners
// (context - mean) / scale in every method; the entry survives save and load.
TEST(ContextStandardized, ConditionersSeeTheStandardisedContext) {
  const std::vector<double> mean{10.0, -3.0}, scale{4.0, 0.25};
  const auto options = FlowOptions(2).layers(2).hidden({8}).context_features(2).seed(4);
  auto plain = build("maf", options);
  {
    torch::NoGradGuard no_grad;  // off the identity, so the context matters
    for (auto& p : plain->parameters()) p.add_(torch::randn_like(p) * 0.3);
  }
  plain->eval();
  auto flow = context_standardized(plain, mean, scale);
  const auto c = torch::tensor({{12.0, -3.5}, {6.0, -2.0}, {10.0, -3.0}});
  const auto standardised = (c - torch::tensor({10.0f, -3.0f})) / torch::tensor({4.0f, 0.25f});
  const auto y = torch::randn({3, 2});
  EXPECT_TRUE(torch::allclose(flow->log_prob(y, c), plain->log_prob(y, standardised)));
  EXPECT_FALSE(torch::allclose(flow->log_prob(y, c), plain->log_prob(y, c)));
  auto draw = [](Flow f, const torch::Tensor& context) {
    return f->sample(4, context, at::make_generator<at::CPUGeneratorImpl>(9));
  };
  EXPECT_TRUE(torch::allclose(draw(flow, c), draw(plain, standardised)));
  auto both = flow->sample_and_log_prob(4, c, at::make_generator<at::CPUGeneratorImpl>(9));
  EXPECT_TRUE(torch::allclose(both.log_prob, plain->log_prob(draw(plain, standardised),
                                                              standardised.unsqueeze(0)),
                              1e-5, 1e-4));
  // The spec rebuilds it (as io::load does), and with another dtype.
  auto rebuilt = build(flow->spec());
  torch::NoGradGuard no_grad;
  auto source = flow->named_parameters();
  for (auto& p : rebuilt->named_parameters()) p.value().copy_(source[p.key()]);
  EXPECT_TRUE(torch::allclose(rebuilt->log_prob(y, c), flow->log_prob(y, c)));
  rebuilt->to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(rebuilt->log_prob(y.to(torch::kFloat64), c.to(torch::kFloat64)),
                              flow->log_prob(y, c).to(torch::kFloat64), 1e-4, 1e-4));
  // Refused: twice, on an unconditional flow, with bad sizes or scales.
  expect_error([&] { context_standardized(flow, mean, scale); }, {"already standardises"});
  expect_error([&] { context_standardized(build("maf", FlowOptions(2)), {0.0}, {1.0}); },
               {"'standardize_context'", "conditional"});
  expect_error([&] { context_standardized(plain, {0.0}, {1.0}); },
               {"'standardize_context'", "needs 2 means and scales"});
  expect_error([&] { context_standardized(plain, mean, {1.0, -1.0}); },
               {"'standardize_context'", "positive", "-1"});
}

}  // namespace
}  // namespace diffeo::flows
