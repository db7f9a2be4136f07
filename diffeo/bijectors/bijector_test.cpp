// Behaviour of the composition types and elementwise bijectors beyond the
// generic properties: order, values against known numbers, parameters, errors.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/bijectors/domain_guard.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::expect_error;

TEST(Chain, AppliesTheLastBijectorFirst) {
  auto chain = Chain({Shift(1.0), Scale(2.0)});  // x -> 2x -> 2x + 1
  auto x = torch::tensor({0.5, -3.0});
  auto r = chain->forward_and_log_det(x);
  EXPECT_TRUE(torch::allclose(r.output, torch::tensor({2.0f, -5.0f})));
  EXPECT_TRUE(torch::allclose(r.log_det, torch::full({2}, std::log(2.0f))));
  EXPECT_TRUE(torch::allclose(chain->inverse(r.output), x));
}

TEST(Chain, SumsLowerRankLogDetsOverTheEvent) {
  auto chain = Chain({Rotation2D(0.4), Scale(torch::tensor({2.0, 3.0}))});
  EXPECT_EQ(chain->event_rank(), 1);
  auto r = chain->forward_and_log_det(torch::randn({7, 2}));
  ASSERT_EQ(r.log_det.sizes(), torch::IntArrayRef({7}));
  EXPECT_NEAR(r.log_det[0].item<double>(), std::log(6.0), 1e-6);
}

// The log-dets are summed in one node: its gradient must reach every member's
// parameters and the input, as the members' own log-dets' gradients do.
TEST(Chain, LogDetGradientReachesEveryMember) {
  // Learnable clips: per-value log-dets of the batch's shape, the one-node sum.
  auto first = SoftClip(-2.0, 2.0, 1.0, /*learnable=*/true);
  auto second = SoftClip(-3.0, 1.0, 0.5, /*learnable=*/true);
  auto third = SoftClip(-4.0, 4.0, 2.0, /*learnable=*/true);
  auto chain = Chain({first, second, third});
  chain->to(torch::kFloat64);
  auto x = torch::randn({6, 2}, torch::kFloat64).requires_grad_();
  auto r = chain->forward_and_log_det(x);
  ASSERT_NE(r.log_det.grad_fn(), nullptr);
  ASSERT_NE(r.log_det.grad_fn()->name().find("SumOfTerms"), std::string::npos)
      << r.log_det.grad_fn()->name();
  std::vector<torch::Tensor> inputs{x};
  for (const auto& p : chain->parameters()) inputs.push_back(p);
  ASSERT_EQ(inputs.size(), 10u);
  auto grads = torch::autograd::grad({r.log_det.sum()}, inputs);
  // The same sum from the members, step by step.
  auto a = third->forward_and_log_det(x);
  auto b = second->forward_and_log_det(a.output);
  auto c = first->forward_and_log_det(b.output);
  auto expected = torch::autograd::grad({(a.log_det + b.log_det + c.log_det).sum()}, inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(grads[i].defined()) << i;
    EXPECT_GT(grads[i].abs().sum().item<double>(), 0) << i;
    EXPECT_TRUE(torch::allclose(grads[i], expected[i], 1e-14, 1e-14)) << i;
  }
}

TEST(Chain, RegistersMembersAsSubmodules) {
  auto chain = Chain({Rotation2D(0.4), Shift(torch::zeros({2})), Scale(torch::ones({2}))});
  EXPECT_EQ(chain->parameters().size(), 3u);
  EXPECT_EQ(chain->bijectors().size(), 3u);
}

TEST(Rotation2D, RotatesCounterClockwise) {
  auto rotation = Rotation2D(M_PI / 2);
  auto y = rotation->forward(torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}}));
  EXPECT_TRUE(torch::allclose(y, torch::tensor({{0.0f, 1.0f}, {-1.0f, 0.0f}}), 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(rotation->forward_and_log_det(y).log_det, torch::zeros({2})));
}

TEST(Inverse, SwapsDirections) {
  auto log = Inverse(Exp());
  auto r = log->forward_and_log_det(torch::tensor({1.0f, std::exp(2.0f)}));
  EXPECT_TRUE(torch::allclose(r.output, torch::tensor({0.0f, 2.0f})));
  EXPECT_TRUE(torch::allclose(r.log_det, torch::tensor({0.0f, -2.0f})));
}

TEST(Permute, ReordersCoordinates) {
  auto permute = Permute(std::vector<int64_t>{2, 0, 1});
  auto x = torch::tensor({{10.0f, 11.0f, 12.0f}});
  EXPECT_TRUE(torch::equal(permute->forward(x), torch::tensor({{12.0f, 10.0f, 11.0f}})));
  EXPECT_TRUE(torch::equal(Reverse()->forward(x), torch::tensor({{12.0f, 11.0f, 10.0f}})));
}

// The numbers from TFP's SoftClip documentation.
TEST(SoftClip, MatchesTensorFlowProbability) {
  auto clip = SoftClip(-10, 10);
  auto y = clip->forward(
      torch::tensor({-15.0, -7.0, 1.0, 9.0, 20.0}, torch::kFloat64).to(torch::kFloat));
  auto expected = torch::tensor({-9.993284f, -6.951412f, 0.9998932f, 8.686738f, 9.999954f});
  EXPECT_TRUE(torch::allclose(y, expected, 1e-5, 1e-5)) << y;
}

TEST(SoftClip, StaysInsideItsInterval) {
  auto clip = SoftClip(-1, 2, 0.1);
  clip->to(torch::kFloat64);
  auto y = clip->forward(torch::tensor({-1e3, -1.0, 0.0, 2.0, 1e3}, torch::kFloat64));
  EXPECT_TRUE((y >= -1).all().item<bool>() && (y <= 2).all().item<bool>()) << y;
  EXPECT_NEAR(y[2].item<double>(), 0.0, 1e-3);  // near identity far from the bounds
}

TEST(Softplus, HingeSoftnessScalesTheKink) {
  auto softplus = Softplus(0.5);
  EXPECT_NEAR(softplus->forward(torch::zeros({1}))[0].item<double>(), 0.5 * std::log(2.0), 1e-6);
  EXPECT_NEAR(softplus->forward(torch::full({1}, 10.0))[0].item<double>(), 10.0, 1e-6);
}

TEST(DomainGuard, OutsideTheRangeLogDetIsMinusInfinityNeverNaN) {
  auto outside = torch::tensor({-1.5, -1.0}, torch::kFloat64).requires_grad_(true);
  for (Bijector b : {Bijector(Exp()), Bijector(Softplus()), Bijector(Sigmoid()), Bijector(Tanh()),
                     Bijector(SoftClip(0.5, 2.0))}) {
    b->to(torch::kFloat64);
    auto r = b->inverse_and_log_det(outside);
    EXPECT_TRUE(torch::isfinite(r.output).all().item<bool>()) << b->name();
    EXPECT_TRUE((r.log_det == -INFINITY).all().item<bool>()) << b->name() << r.log_det;
    auto grad = torch::autograd::grad({r.output.sum()}, {outside})[0];
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << b->name();
  }
  auto r = Tanh()->inverse_and_log_det(torch::tensor({NAN, 0.5f}));
  EXPECT_TRUE(std::isnan(r.output[0].item<float>()));  // NaN input is not hidden
  EXPECT_TRUE(std::isfinite(r.log_det[1].item<float>()));
}

TEST(Parameters, LearnableOrFixed) {
  EXPECT_EQ(Shift(1.0)->parameters().size(), 1u);
  auto fixed = Shift(1.0, /*learnable=*/false);
  EXPECT_EQ(fixed->parameters().size(), 0u);
  ASSERT_EQ(fixed->buffers().size(), 1u);
  fixed->to(torch::kFloat64);  // fixed values still follow the module's dtype
  EXPECT_EQ(fixed->loc().dtype(), torch::kFloat64);
  EXPECT_NEAR(Scale(0.25)->scale().item<double>(), 0.25, 1e-7);
}

TEST(Parameters, ScaleStaysPositiveUnderLargeSteps) {
  auto scale = Scale(0.1);
  torch::optim::SGD sgd(scale->parameters(), 10.0);
  auto loss = scale->forward(torch::ones({1})).sum();  // pushes the scale down
  loss.backward();
  sgd.step();
  EXPECT_GT(scale->scale().item<double>(), 0.0);
}

TEST(Errors, WrongEventSizeNamesArgumentAndBothSizes) {
  expect_error(
      [] {
        Rotation2D(0.1)->forward(torch::randn({5, 3}));
      },
      {"Rotation2D", "'x'", "event size 3", "event size 2", "[5, 3]"});
  expect_error(
      [] {
        Permute(std::vector<int64_t>{1, 0})->inverse(torch::randn({4}));
      },
      {"Permute", "'y'", "event size 4", "event size 2"});
  expect_error(
      [] {
        Shift(torch::zeros({3}))->forward(torch::randn({4, 2}));
      },
      {"Shift", "'x'", "[4, 2]", "[3]"});
  expect_error([] { Rotation2D(0.1)->forward(torch::randn({})); },
               {"Rotation2D", "'x'", "at least 1 dimension"});
}

TEST(Errors, UndefinedOrIntegerInput) {
  expect_error([] { Exp()->forward(torch::Tensor()); }, {"Exp", "'x'", "undefined"});
  expect_error([] { Chain({Exp()})->inverse(torch::Tensor()); }, {"Chain", "'y'", "undefined"});
  expect_error([] { Exp()->forward(torch::ones({2}, torch::kLong)); },
               {"Exp", "'x'", "floating-point", "int64"});
}

TEST(Errors, DtypeMixNamesBothDtypes) {
  auto rotation = Rotation2D(0.1);
  rotation->to(torch::kFloat64);
  expect_error(
      [&] {
        rotation->forward(torch::randn({2, 2}));
      },
      {"Rotation2D", "'x'", "float32", "'theta'", "float64"});
}

TEST(Errors, NonFiniteOrInvalidConstructorArguments) {
  expect_error([] { (void)Shift(NAN); }, {"Shift", "'loc'", "finite"});
  expect_error(
      [] {
        (void)Scale(torch::tensor({1.0f, INFINITY}));
      },
      {"Scale", "'scale'", "finite"});
  expect_error([] { (void)Scale(-2.0); }, {"Scale", "'scale'", "positive", "-2"});
  expect_error([] { (void)ScalarAffine(0.0, NAN); }, {"ScalarAffine", "'log_scale'"});
  expect_error([] { (void)ScalarAffine(torch::zeros({2}), torch::zeros({3})); },
               {"ScalarAffine", "[2]", "[3]"});
  expect_error([] { (void)Rotation2D(INFINITY); }, {"Rotation2D", "'theta'", "finite"});
  expect_error([] { (void)Softplus(0.0); }, {"Softplus", "'hinge_softness'", "positive"});
  expect_error([] { (void)SoftClip(1, 1); }, {"SoftClip", "'low'", "'high'"});
  expect_error([] { (void)Permute(std::vector<int64_t>{0, 0}); }, {"Permute", "'permutation'"});
  expect_error([] { (void)Chain(std::vector<Bijector>{}); }, {"Chain", "at least one"});
  expect_error([] { (void)Block(Exp(), -1); }, {"Block", "'extra_event_dims'"});
  expect_error([] { (void)Inverse(Bijector(nullptr)); }, {"Inverse", "empty"});
}

}  // namespace
}  // namespace diffeo
