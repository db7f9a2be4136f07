// ConditionalElementwise and BernsteinChainTransform: the harness with a
// context, identity at zero parameters, and a regression where a Bernstein
// transformation model beats Gaussian regression.

#include "diffeo/bijectors/conditional_elementwise.h"

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/bijectors/bernstein_chain_transform.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::BijectorCase;

ConditionalElementwise regression(int64_t features, int64_t context, Transform transform,
                                  bool zero_last_layer) {
  const auto P = transform->parameters_per_feature();
  return ConditionalElementwise(
      features, context,
      torch::nn::AnyModule(nn::MLP(nn::MLPOptions(context, features * P)
                                       .hidden({16, 16})
                                       .activation("tanh")
                                       .zero_last_layer(zero_last_layer))),
      transform);
}

std::vector<BijectorCase> cases() {
  return {
      {"ConditionalAffine",
       [] {
         torch::manual_seed(31);
         return Bijector(regression(2, 3, affine_transform(), false));
       },
       {2},
       {},
       {torch::tensor({{40.0, -40.0}})},
       3},
      {"ConditionalBernsteinChain",
       [] {
         torch::manual_seed(32);
         return Bijector(regression(2, 3, std::make_shared<BernsteinChainTransform>(6), false));
       },
       {2},
       {},
       {torch::tensor({{8.0, -8.0}, {0.0, 1e3}})},
       3},
  };
}

class ConditionalElementwiseProperties : public ::testing::TestWithParam<BijectorCase> {};
TEST_P(ConditionalElementwiseProperties, All) { testing::check_all(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Conditional, ConditionalElementwiseProperties,
                         ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(BernsteinChainTransform, IdentityAtZeroParameters) {
  BernsteinChainTransform chain(8);
  auto y = torch::linspace(-6, 6, 25, torch::kFloat64).unsqueeze(0);
  auto params = torch::zeros({1, 25, 13}, torch::kFloat64);
  for (bool inverse : {false, true}) {
    auto r = chain.apply(y, params, inverse);
    EXPECT_TRUE(torch::allclose(r.output, y, 0, 1e-10));
    EXPECT_TRUE(torch::allclose(r.log_det, torch::zeros_like(y), 0, 1e-10));
  }
  testing::expect_error(
      [&] {
        chain.apply(y, torch::zeros({1, 25, 9}), false);
      },
      {"BernsteinChainTransform", "'params'", "9", "13"});
}

// y | x is bimodal (y = x +- 1.5 + noise): a Gaussian regression cannot
// represent it; a Bernstein transformation model of the same MLP can.
TEST(ConditionalElementwise, BernsteinRegressionBeatsGaussianRegression) {
  torch::manual_seed(6);
  const int64_t n = 4000;
  auto x = torch::rand({n, 1}) * 4 - 2;
  auto sign = torch::randint(0, 2, {n, 1}).to(torch::kFloat) * 2 - 1;
  auto y = x + 1.5 * sign + 0.3 * torch::randn({n, 1});
  y = (y - y.mean()) / y.std();  // standardised, as the models assume
  auto nll = [&](Transform transform, double lr) {
    torch::manual_seed(7);
    auto model = Transformed(StandardNormal(1), regression(1, 1, transform, true));
    train::fit(model, y, train::FitOptions().steps(800).learning_rate(lr).validate_every(0), x);
    torch::NoGradGuard no_grad;
    return -model->log_prob(y, x).mean().item<double>();
  };
  const double gaussian = nll(affine_transform(), 0.01);
  const double bernstein = nll(std::make_shared<BernsteinChainTransform>(12), 0.01);
  EXPECT_LT(bernstein, gaussian - 0.3) << bernstein << " vs Gaussian " << gaussian;
}

TEST(ConditionalElementwise, NeedsAContextOfTheRightWidth) {
  auto b = regression(2, 3, affine_transform(), true);
  testing::expect_error(
      [&] {
        b->forward(torch::randn({4, 2}));
      },
      {"ConditionalElementwise", "context of width 3"});
  testing::expect_error(
      [&] {
        b->forward(torch::randn({4, 2}), torch::randn({4, 2}));
      },
      {"ConditionalElementwise", "'context'", "3 features"});
}

}  // namespace
}  // namespace diffeo
