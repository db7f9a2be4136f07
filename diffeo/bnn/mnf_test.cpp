// The MNF latent: its flows through the property harness, log q(z) against
// the exact density, and r(z | W) as a normalised density.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::bnn {
namespace {

using diffeo::testing::BijectorCase;

// Freshly built flows start near the identity (zero last layers); perturb
// every parameter so the harness checks a general member of the family.
Bijector perturbed(Bijector b, double scale) {
  torch::NoGradGuard no_grad;
  for (auto& p : b->parameters()) p.add_(scale * torch::randn_like(p));
  return b;
}

std::vector<BijectorCase> flow_cases() {
  std::vector<BijectorCase> cases;
  for (int64_t dim : {1, 2, 5}) {
    cases.push_back({"GatedCouplingFlowDim" + std::to_string(dim),
                     [dim] {
                       torch::manual_seed(20 + dim);
                       return perturbed(gated_coupling_flow(dim, 3, 8), 0.7);
                     },
                     {dim},
                     {},
                     {30 * torch::ones({1, dim}), -1e3 * torch::ones({1, dim})}});
  }
  // The two flows of a layer's latent as they are built there: q(z) and r(z | W).
  cases.push_back({"MNFLinearFlowQ",
                   [] {
                     torch::manual_seed(30);
                     return perturbed(MNFLinear(6, 3)->noise()->flow_q(), 0.5);
                   },
                   {6}});
  cases.push_back({"MNFConv2dFlowR",
                   [] {
                     torch::manual_seed(31);
                     return perturbed(MNFConv2d(2, 4, 3)->noise()->flow_r(), 0.5);
                   },
                   {4}});
  return cases;
}

class AuxiliaryFlows : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(AuxiliaryFlows, PassTheBijectorHarness) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(MNF, AuxiliaryFlows, ::testing::ValuesIn(flow_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(GatedAffineTransform, MovesPartOfTheWayWithLogGate) {
  auto t = gated_affine_transform(0.0);
  auto x = torch::tensor({2.0, -1.0}, torch::kFloat64);
  auto params = torch::tensor({{4.0, 0.0}, {3.0, std::log(3.0)}}, torch::kFloat64);
  auto r = t->apply(x, params, false);
  // gates 1/2 and 3/4: y = g x + (1 - g) m.
  EXPECT_NEAR(r.output[0].item<double>(), 3.0, 1e-12);
  EXPECT_NEAR(r.output[1].item<double>(), 0.75 * -1.0 + 0.25 * 3.0, 1e-12);
  EXPECT_NEAR(r.log_det[1].item<double>(), std::log(0.75), 1e-12);
  auto back = t->apply(r.output, params, true);
  EXPECT_TRUE(torch::allclose(back.output, x, 1e-12, 1e-12));
  diffeo::testing::expect_error([] { GatedAffineTransform(NAN); }, {"'gate_bias'"});
}

class DoubleNoise : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = torch::get_default_dtype();
    torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
  }
  void TearDown() override { torch::set_default_dtype(saved_); }

 private:
  caffe2::TypeMeta saved_;
};

TEST_F(DoubleNoise, LogQHasTheExpectationOfTheExactDensity) {
  torch::manual_seed(3);
  MultiplicativeNoise noise(4, MultiplicativeNoiseOptions().initial_variance(0.5));
  perturbed(noise->flow_q(), 0.5);
  torch::NoGradGuard no_grad;
  const int64_t n = 20000;
  std::vector<double> estimated, exact;
  for (int64_t i = 0; i < n; ++i) {
    auto [z, log_q] = noise->sample_with_log_q();
    estimated.push_back(log_q.item<double>());
    // Exact: invert the flow and evaluate the Gaussian base.
    auto pulled = noise->flow_q()->inverse_and_log_det(z);
    auto var = torch::exp(noise->base_log_variance);
    auto base = (-0.5 * (pulled.output - noise->base_mean).square() / var -
                 0.5 * torch::log(2 * M_PI * var))
                    .sum();
    exact.push_back((base + pulled.log_det).item<double>());
  }
  auto a = torch::tensor(estimated), b = torch::tensor(exact);
  const double se = std::sqrt((a.var() + b.var()).item<double>() / n);
  EXPECT_NEAR(a.mean().item<double>(), b.mean().item<double>(), 5 * se);
  // The estimate replaces only log q0(z0) by its mean, so it has less spread.
  EXPECT_LT(a.var().item<double>(), b.var().item<double>());
}

TEST_F(DoubleNoise, AuxiliaryModelIsANormalisedDensityOfZ) {
  torch::manual_seed(4);
  MultiplicativeNoise noise(1, MultiplicativeNoiseOptions().flow_steps_r(3));
  perturbed(noise->flow_r(), 0.5);
  torch::NoGradGuard no_grad;
  auto projections = torch::randn({7});
  // Trapezoid rule over a wide grid.
  auto grid = torch::linspace(-400, 400, 80001);
  auto d = torch::exp(noise->log_r(grid.unsqueeze(1), projections));
  const double h = 800.0 / 80000;
  const double integral = (h * (d.sum() - 0.5 * (d[0] + d[-1]))).item<double>();
  EXPECT_NEAR(integral, 1.0, 1e-4);
  EXPECT_LT(d[0].item<double>() + d[-1].item<double>(), 1e-6);
}

TEST(MultiplicativeNoise, StartsAtOneWithTheInitialVariance) {
  torch::manual_seed(5);
  MultiplicativeNoise noise(1, MultiplicativeNoiseOptions().initial_variance(0.04).flow_steps_q(1));
  torch::NoGradGuard no_grad;
  // One gated step (in 1-D it moves the only coordinate) starts at
  // g = sigmoid(2) with target 0: z = g z0.
  auto z = noise->sample(50000);
  const double g = 1.0 / (1.0 + std::exp(-2.0));
  EXPECT_NEAR(z.mean().item<double>(), g, 0.005);
  EXPECT_NEAR(z.std().item<double>(), g * 0.2, 0.005);
}

}  // namespace
}  // namespace diffeo::bnn
