// Coupling and autoregressive layers through the property harness, with
// random (non-identity) conditioners, with and without context.

#include <gtest/gtest.h>

#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::BijectorCase;

nn::MLP random_mlp(int64_t in, int64_t out, int64_t context) {
  return nn::MLP(nn::MLPOptions(in, out)
                     .hidden({16, 16})
                     .activation("tanh")
                     .context_features(context)
                     .zero_last_layer(false));
}

nn::MADE random_made(int64_t D, int64_t P, int64_t context, bool reverse = false) {
  return nn::MADE(nn::MADEOptions(D)
                      .hidden({24, 24})
                      .outputs_per_feature(P)
                      .activation("tanh")
                      .context_features(context)
                      .reverse_order(reverse)
                      .zero_last_layer(false));
}

std::vector<BijectorCase> layer_cases() {
  std::vector<BijectorCase> cases;
  for (int64_t context : {0, 3}) {
    const std::string suffix = context ? "WithContext" : "";
    cases.push_back({"MaskedCouplingAffine" + suffix,
                     [context] {
                       torch::manual_seed(10);
                       auto mask = torch::tensor({1.0f, 0.0f, 1.0f, 0.0f});
                       return Bijector(
                           MaskedCoupling(mask, torch::nn::AnyModule(random_mlp(4, 8, context)),
                                          affine_transform()));
                     },
                     {4},
                     {},
                     {torch::tensor({{30.0, -30.0, 1e3, -1e3}})},
                     context});
    cases.push_back({"SplitCouplingAffine" + suffix,
                     [context] {
                       torch::manual_seed(11);
                       return Bijector(
                           SplitCoupling(5, 2, torch::nn::AnyModule(random_mlp(2, 6, context)),
                                         affine_transform(2.0)));
                     },
                     {5},
                     {},
                     {torch::tensor({{1e3, -1e3, 5.0, -5.0, 0.0}})},
                     context});
    cases.push_back({"MAFAffine" + suffix,
                     [context] {
                       torch::manual_seed(12);
                       return Bijector(
                           MaskedAutoregressive(random_made(4, 2, context), affine_transform()));
                     },
                     {4},
                     {},
                     {torch::tensor({{20.0, -20.0, 3.0, 0.0}})},
                     context});
    cases.push_back({"SplitCouplingSpline" + suffix,
                     [context] {
                       torch::manual_seed(14);
                       return Bijector(
                           SplitCoupling(4, 2, torch::nn::AnyModule(random_mlp(2, 2 * 23, context)),
                                         spline_transform(8)));
                     },
                     {4},
                     {},
                     {torch::tensor({{3.0, -3.0, 2.999, -1e3}})},
                     context,
                     {torch::tensor({{0.5, -1.0, 3.0, -3.0}, {3.0, -3.0, -3.0, 3.0}})}});
    cases.push_back({"MAFSpline" + suffix,
                     [context] {
                       torch::manual_seed(15);
                       return Bijector(
                           MaskedAutoregressive(random_made(3, 23, context), spline_transform(8)));
                     },
                     {3},
                     {},
                     {torch::tensor({{0.5, 3.0, -1e3}})},
                     context,
                     {torch::tensor({{3.0, -3.0, 3.0}, {0.2, 3.0, -3.0}})}});
    cases.push_back({"IAFAffineReversed" + suffix,
                     [context] {
                       torch::manual_seed(13);
                       return Bijector(Inverse(MaskedAutoregressive(
                           random_made(3, 2, context, /*reverse=*/true), affine_transform())));
                     },
                     {3},
                     {},
                     {},
                     context});
  }
  return cases;
}

class FlowLayerProperties : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(FlowLayerProperties, All) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(FlowLayers, FlowLayerProperties, ::testing::ValuesIn(layer_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(FlowLayers, ZeroConditionersStartAtTheIdentity) {
  auto x = torch::randn({6, 4});
  auto coupling =
      MaskedCoupling(torch::tensor({1.0f, 1.0f, 0.0f, 0.0f}),
                     torch::nn::AnyModule(nn::MLP(nn::MLPOptions(4, 8))), affine_transform());
  auto maf = MaskedAutoregressive(nn::MADE(nn::MADEOptions(4)), affine_transform());
  for (Bijector b : {Bijector(coupling), Bijector(maf)}) {
    auto r = b->forward_and_log_det(x);
    EXPECT_TRUE(torch::equal(r.output, x));
    EXPECT_TRUE(torch::equal(r.log_det, torch::zeros({6})));
  }
}

// Every ElementwiseTransform is the identity at theta = 0, so a zero-initialised
// conditioner starts a flow at the identity.
TEST(FlowLayers, TransformsAreTheIdentityAtZeroParameters) {
  auto x = torch::linspace(-5, 5, 11, torch::kFloat64).unsqueeze(0);  // [1, 11]
  for (Transform t : {affine_transform(), spline_transform(5)}) {
    auto params = torch::zeros({1, 11, t->parameters_per_feature()}, torch::kFloat64);
    for (bool inverse : {false, true}) {
      auto r = t->apply(x, params, inverse);
      EXPECT_TRUE(torch::allclose(r.output, x, 0, 1e-12)) << t->name();
      EXPECT_TRUE(torch::allclose(r.log_det, torch::zeros_like(x), 0, 1e-12)) << t->name();
    }
  }
  EXPECT_EQ(spline_transform(8)->parameters_per_feature(), 23);
  EXPECT_EQ(spline_transform(8)->name(), "spline");
}

TEST(FlowLayers, AffineLogScaleIsSoftClamped) {
  auto params = torch::tensor({{0.0f, 1e6f}, {0.0f, -1e6f}}).unsqueeze(0);  // [1, 2, 2]
  auto r = AffineTransform(2.5).apply(torch::ones({1, 2}), params, false);
  EXPECT_TRUE(torch::allclose(r.log_det, torch::tensor({{2.5f, -2.5f}})));
}

TEST(FlowLayers, BadPartsAreRefused) {
  using testing::expect_error;
  expect_error(
      [] {
        MaskedCoupling(torch::tensor({1.0f, 0.0f}),
                       torch::nn::AnyModule(nn::MLP(nn::MLPOptions(2, 3))), affine_transform())
            ->forward(torch::randn({2, 2}));
      },
      {"MaskedCoupling", "conditioner", "[2, 3]", "4"});
  expect_error(
      [] {
        (void)MaskedCoupling(torch::tensor({1.0f, 0.5f}),
                             torch::nn::AnyModule(nn::MLP(nn::MLPOptions(2, 4))),
                             affine_transform());
      },
      {"MaskedCoupling", "'mask'"});
  expect_error(
      [] {
        (void)SplitCoupling(4, 4, torch::nn::AnyModule(nn::MLP(nn::MLPOptions(2, 4))),
                            affine_transform());
      },
      {"SplitCoupling", "split 4"});
  expect_error(
      [] {
        (void)MaskedAutoregressive(nn::MADE(nn::MADEOptions(3).outputs_per_feature(5)),
                                   affine_transform());
      },
      {"MaskedAutoregressive", "5", "affine", "2"});
}

}  // namespace
}  // namespace diffeo
