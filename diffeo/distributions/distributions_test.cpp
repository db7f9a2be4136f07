// Distributions: densities against closed forms, sampling shapes and
// reproducibility, and a flow (Transformed) whose density integrates to 1 and
// whose samples match it.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/goodness_of_fit.h"

namespace diffeo {
namespace {

using testing::expect_error;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

TEST(Normal, LogProbMatchesClosedForm) {
  auto normal = Normal(torch::tensor({1.0, -2.0}, torch::kFloat64),
                       torch::tensor({0.5, 3.0}, torch::kFloat64));
  auto x = torch::tensor({{0.0, 0.0}, {1.0, -2.0}}, torch::kFloat64);
  auto lp = normal->log_prob(x);
  auto expected = [](double v, double m, double s) {
    return -0.5 * std::pow((v - m) / s, 2) - std::log(s) - 0.5 * std::log(2 * M_PI);
  };
  EXPECT_NEAR(lp[0].item<double>(), expected(0, 1, 0.5) + expected(0, -2, 3), 1e-12);
  EXPECT_NEAR(lp[1].item<double>(), expected(1, 1, 0.5) + expected(-2, -2, 3), 1e-12);
  EXPECT_NEAR(normal->scale()[1].item<double>(), 3.0, 1e-6);
  EXPECT_EQ(normal->parameters().size(), 2u);
}

TEST(Normal, SamplesHaveTheRightMoments) {
  auto normal = Normal(torch::tensor({1.0, -2.0}), torch::tensor({0.5, 3.0}));
  auto x = normal->sample(200000, {}, seeded(7));
  ASSERT_EQ(x.sizes(), torch::IntArrayRef({200000, 2}));
  EXPECT_TRUE(torch::allclose(x.mean(0), torch::tensor({1.0f, -2.0f}), 0, 0.03));
  EXPECT_TRUE(torch::allclose(x.std(0), torch::tensor({0.5f, 3.0f}), 0.01, 0));
}

// The one-node log density against N(0, I)'s closed form and the composite
// path (a non-contiguous x takes it), with gradients of both orders: under
// create_graph the backward is built from differentiable ops.
TEST(StandardNormal, LogDensityNodeMatchesTheCompositeWithGradientsOfBothOrders) {
  auto normal = StandardNormal(3);
  normal->to(torch::kFloat64);
  auto base = torch::randn({3, 5}, torch::kFloat64);
  auto contiguous = base.t().contiguous().requires_grad_();  // [5, 3]
  auto strided = base.t().detach().requires_grad_();         // the same values, transposed view
  ASSERT_FALSE(strided.is_contiguous());
  auto fast = normal->log_prob(contiguous), composite = normal->log_prob(strided);
  ASSERT_NE(fast.grad_fn(), nullptr);
  ASSERT_NE(composite.grad_fn(), nullptr);
  EXPECT_NE(fast.grad_fn()->name().find("StandardNormalLogDensity"), std::string::npos);
  EXPECT_EQ(composite.grad_fn()->name().find("StandardNormalLogDensity"), std::string::npos);
  const auto expected = -0.5 * base.t().square().sum(1) - 1.5 * std::log(2 * M_PI);
  EXPECT_TRUE(torch::allclose(fast, expected, 1e-15, 1e-13));
  EXPECT_TRUE(torch::allclose(fast, composite, 1e-15, 1e-13));
  const auto weights = torch::rand({5}, torch::kFloat64);
  auto g_fast = torch::autograd::grad({(fast * weights).sum()}, {contiguous}, {}, true, true)[0];
  auto g_comp = torch::autograd::grad({(composite * weights).sum()}, {strided}, {}, true, true)[0];
  EXPECT_TRUE(torch::allclose(g_fast, -contiguous.detach() * weights.unsqueeze(1), 1e-15, 1e-15));
  EXPECT_TRUE(torch::allclose(g_fast, g_comp, 1e-15, 1e-15));
  // d/dx of sum(grad) = -weight per row.
  auto h_fast = torch::autograd::grad({g_fast.sum()}, {contiguous})[0];
  auto h_comp = torch::autograd::grad({g_comp.sum()}, {strided})[0];
  EXPECT_TRUE(torch::allclose(h_fast, -weights.unsqueeze(1).expand({5, 3}), 1e-15, 1e-15));
  EXPECT_TRUE(torch::allclose(h_fast, h_comp, 1e-15, 1e-15));
  // Event shapes with a batch of several dimensions and none at all.
  auto x = torch::randn({2, 4, 3}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(normal->log_prob(x),
                              -0.5 * x.square().sum(-1) - 1.5 * std::log(2 * M_PI)));
  EXPECT_EQ(normal->log_prob(torch::empty({0, 3}, torch::kFloat64)).sizes(),
            torch::IntArrayRef({0}));
}

TEST(StandardNormal, GeneratorMakesSamplingReproducible) {
  auto normal = StandardNormal(3);
  EXPECT_TRUE(torch::equal(normal->sample(5, {}, seeded(1)), normal->sample(5, {}, seeded(1))));
  EXPECT_FALSE(torch::equal(normal->sample(5, {}, seeded(1)), normal->sample(5, {}, seeded(2))));
  EXPECT_EQ(normal->parameters().size(), 0u);
  normal->to(torch::kFloat64);
  EXPECT_EQ(normal->sample(2).dtype(), torch::kFloat64);
}

TEST(StandardNormal, ContextBatchShapesTheSamples) {
  auto normal = StandardNormal(2);
  auto context = torch::randn({4, 3});
  EXPECT_EQ(normal->sample(6, context).sizes(), torch::IntArrayRef({6, 4, 2}));
  auto both = normal->sample_and_log_prob(6, context);
  EXPECT_EQ(both.log_prob.sizes(), torch::IntArrayRef({6, 4}));
  EXPECT_TRUE(torch::allclose(both.log_prob, normal->log_prob(both.sample)));
}

TEST(Uniform, DensityInsideAndMinusInfinityOutside) {
  auto uniform = Uniform(torch::tensor({0.0f, -1.0f}), torch::tensor({2.0f, 3.0f}));
  auto lp = uniform->log_prob(torch::tensor({{1.0f, 0.0f}, {2.5f, 0.0f}, {1.0f, -1.5f}}));
  EXPECT_NEAR(lp[0].item<double>(), -std::log(8.0), 1e-6);
  EXPECT_TRUE(std::isinf(lp[1].item<double>()) && lp[1].item<double>() < 0);
  EXPECT_TRUE(std::isinf(lp[2].item<double>()) && lp[2].item<double>() < 0);
  auto x = uniform->sample(10000, {}, seeded(3));
  EXPECT_TRUE(torch::isfinite(uniform->log_prob(x)).all().item<bool>());
  EXPECT_NEAR(x.select(1, 1).mean().item<double>(), 1.0, 0.05);
}

TEST(Transformed, ElementwiseBijectorOnAVectorBaseIsLogNormal) {
  auto flow = Transformed(StandardNormal(2), Exp());
  flow->to(torch::kFloat64);
  auto y = torch::tensor({{0.5, 2.0}}, torch::kFloat64);
  double expected = 0;
  for (double v : {0.5, 2.0})
    expected += -0.5 * std::log(v) * std::log(v) - 0.5 * std::log(2 * M_PI) - std::log(v);
  EXPECT_NEAR(flow->log_prob(y)[0].item<double>(), expected, 1e-12);
  EXPECT_EQ(flow->event_shape(), std::vector<int64_t>({2}));
}

TEST(Transformed, SampleAndLogProbAgreesWithLogProb) {
  auto flow = Transformed(StandardNormal(2), Chain({Rotation2D(0.3), Block(SoftClip(-2, 2), 1),
                                                    Scale(torch::tensor({0.7, 1.5}))}));
  flow->to(torch::kFloat64);
  auto both = flow->sample_and_log_prob(100, {}, seeded(5));
  EXPECT_TRUE(torch::allclose(both.log_prob, flow->log_prob(both.sample), 1e-10, 1e-10));
  auto context = torch::randn({3, 2}, torch::kFloat64);
  EXPECT_EQ(flow->sample(4, context).sizes(), torch::IntArrayRef({4, 3, 2}));
  EXPECT_EQ(
      flow->log_prob(flow->sample(4, context), torch::randn({4, 3, 2}, torch::kFloat64)).sizes(),
      torch::IntArrayRef({4, 3}));
}

// A non-Gaussian flow with bounded support: a squashed, rotated, shifted normal.
Transformed squashed_flow() {
  auto flow =
      Transformed(StandardNormal(2), Chain({Shift(torch::tensor({0.3, -0.2})), Rotation2D(0.5),
                                            Block(Tanh(), 1), Scale(torch::tensor({0.5, 0.8}))}));
  flow->to(torch::kFloat64);
  return flow;
}

const data::PlotRange kBox{-2, 2, -2, 2};

TEST(Transformed, DensityIntegratesToOne) {
  auto flow = squashed_flow();
  EXPECT_NEAR(
      testing::integrate([&](const torch::Tensor& x) { return flow->log_prob(x); }, kBox, 600), 1.0,
      2e-3);
}

// Pearson's chi-square between a histogram of samples and the bin masses the
// density predicts, fixed seed.
TEST(Transformed, SamplesMatchTheDensity) {
  auto flow = squashed_flow();
  torch::NoGradGuard no_grad;
  auto chi2 = testing::chi_square([&](const torch::Tensor& x) { return flow->log_prob(x); },
                                  flow->sample(100000, {}, seeded(11)), kBox, 20, 10);
  ASSERT_GT(chi2.dof, 80);
  EXPECT_LT(chi2.statistic, chi2.threshold()) << "chi-square " << chi2.statistic;
  EXPECT_GT(chi2.coverage, 0.99);
}

TEST(Errors, DistributionArgumentsAreChecked) {
  expect_error(
      [] {
        (void)Normal(torch::zeros({2}), torch::tensor({1.0f, -1.0f}));
      },
      {"Normal", "'scale'", "positive", "-1"});
  expect_error([] { (void)Normal(torch::zeros({2}), torch::ones({3})); },
               {"Normal", "'loc'", "[2]", "[3]"});
  expect_error([] { (void)Normal(torch::full({2}, NAN), torch::ones({2})); },
               {"Normal", "'loc'", "finite"});
  expect_error([] { (void)StandardNormal(0); }, {"StandardNormal", "'dim'", "positive", "0"});
  expect_error([] { (void)Uniform(torch::ones({2}), torch::ones({2})); }, {"Uniform", "'high'"});
  expect_error(
      [] {
        StandardNormal(2)->log_prob(torch::zeros({5, 3}));
      },
      {"Normal", "'x'", "event size 3", "event size 2"});
  expect_error([] { StandardNormal(2)->sample(0); }, {"'n'", "positive", "0"});
  expect_error([] { StandardNormal(2)->sample(-3); }, {"'n'", "positive", "-3"});
  expect_error([] { StandardNormal(2)->sample(3, torch::tensor(1.0f)); }, {"'context'"});
  expect_error(
      [] { (void)Transformed(Normal(torch::zeros({}), torch::ones({})), Rotation2D(0.1)); },
      {"Transformed", "event rank 1", "event rank 0"});
  expect_error([] { (void)Transformed(nullptr, Exp()); }, {"Transformed", "'base'"});
  auto flow = Transformed(StandardNormal(2), Rotation2D(0.1));
  expect_error([&] { flow->log_prob(torch::zeros({4, 3})); }, {"'x'", "event size 3"});
  flow->to(torch::kFloat64);
  expect_error([&] { flow->log_prob(torch::zeros({4, 2})); }, {"float32", "float64"});
}

}  // namespace
}  // namespace diffeo
