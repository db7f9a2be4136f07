// The fused affine layer (one autograd node with a hand-written backward)
// against the composite LibTorch path and against finite differences, in float64.

#include "diffeo/bijectors/fused_affine.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "diffeo/bijectors/fused_layer.h"
#include "diffeo/bijectors/gated_affine_transform.h"
#include "diffeo/core/fusion.h"
#include "diffeo/flows/flow.h"
#include "diffeo/testing/fused_checks.h"

namespace diffeo {
namespace {

flows::Flow random_flow(const std::string& name, const std::string& activation) {
  return testing::random_flow(
      name, flows::FlowOptions(3).layers(3).hidden({16, 12}).activation(activation), 0.4);
}

class FusedAffineFlows
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FusedAffineFlows, LogProbAndGradientsMatchTheCompositePath) {
  auto [name, activation] = GetParam();
  auto flow = random_flow(name, activation);
  testing::expect_log_prob_matches_composite(flow, torch::randn({40, 3}, torch::kDouble) * 1.5,
                                             "FusedAffine");
}

TEST_P(FusedAffineFlows, SamplingDirectionMatchesTheCompositePath) {
  auto [name, activation] = GetParam();
  auto flow = random_flow(name, activation);
  testing::expect_sampling_direction_matches_composite(flow, torch::randn({40, 3}, torch::kDouble),
                                                       "FusedAffine");
}

INSTANTIATE_TEST_SUITE_P(RealNVPAndMAF, FusedAffineFlows,
                         ::testing::Combine(::testing::Values("realnvp", "maf"),
                                            ::testing::Values("relu", "tanh")));

// Central differences of every input and parameter of one fused node: the
// hand-written backward, checked without the composite path, in the layouts
// of testing::fused_layouts() (a coupling with a context, a masked
// autoregressive layer, a separate conditioner input as in MAF's sampling).
TEST(FusedAffine, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  for (const auto& layout : testing::fused_layouts()) {
    auto c = testing::random_fused_case(layout, 2, 4);
    auto out_weights = torch::randn({4, layout.features}, torch::kDouble);
    auto det_weights = torch::randn({4}, torch::kDouble);
    for (bool inverse : {false, true}) {
      auto loss = [&] {
        auto r = fused_affine(c.layers, c.inputs, 1.5, inverse);
        return (r.output * out_weights).sum() + (r.log_det * det_weights).sum();
      };
      testing::expect_gradients_match_finite_differences(
          loss, c.wrt, testing::describe(layout) + (inverse ? " (inverse)" : " (forward)"));
    }
  }
}

// A conditional Real NVP (MLP conditioner with a context) takes the fused path
// and gives the composite path's numbers, context gradient included.
TEST(FusedAffine, ConditionalCouplingMatchesTheCompositePath) {
  auto flow = testing::random_flow(
      "realnvp", flows::FlowOptions(4).layers(2).hidden({8}).context_features(3), 0.4, 8);
  auto y = torch::randn({6, 4}, torch::kDouble);
  auto context = torch::randn({6, 3}, torch::kDouble);
  std::vector<torch::Tensor> results;
  for (bool fused : {true, false}) {
    FusedKernelsGuard guard(fused);
    auto c = context.clone().requires_grad_(true);
    auto lp = flow->log_prob(y, c).sum();
    EXPECT_EQ(testing::uses_node(lp, "FusedAffine"), fused);
    lp.backward();
    results.push_back(lp.detach());
    results.push_back(c.grad());
  }
  EXPECT_NEAR(results[0].item<double>(), results[2].item<double>(), 1e-12);
  EXPECT_TRUE(torch::allclose(results[1], results[3], 1e-10, 1e-12));
}

// Without gradients the fused layers take the tape-free path (rows in blocks
// of 1024, no autograd node): 2500 rows = two full blocks and a partial one,
// for every fused flow, density and sampling direction, in float64.
TEST(FusedLayers, InferencePathMatchesTheCompositePath) {
  for (const std::string name : {"realnvp", "maf", "nsf"}) {
    auto flow = testing::random_flow(name, flows::FlowOptions(3).layers(2).hidden({16}), 0.3, 4);
    flow->eval();
    auto y = torch::randn({2500, 3}, torch::kDouble) * 2;
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> out;
    for (bool fused : {true, false}) {
      FusedKernelsGuard guard(fused);
      out.push_back(flow->log_prob(y));
      auto r = flow->bijector()->forward_and_log_det(y);
      out.push_back(r.output);
      out.push_back(r.log_det);
    }
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(torch::allclose(out[i], out[i + 3], 1e-11, 1e-11))
          << name << " output " << i << " differs by "
          << (out[i] - out[i + 3]).abs().max().item<double>();
  }
}

// fused_layer's dispatch: the affine node for an affine transform whose
// conditioner has the right width (same numbers as fused_affine), nothing (the
// composite path) for a conditioner of another width, a transform without a
// kernel, no kernel layers (nullopt: an activation the kernels lack), or
// fusion switched off.
TEST(FusedLayer, DispatchesOnlyWhatAKernelCovers) {
  torch::manual_seed(2);
  auto dense = [](int64_t out) {
    return nn::DenseLayers{{torch::randn({4, 1}), torch::randn({out, 4})},
                           {torch::randn({4}), torch::randn({out})},
                           {},
                           nn::KernelActivation::kRelu};
  };
  const ConditionedInputs inputs{torch::randn({5, 2}), 1, {}, {}};
  auto affine = affine_transform(3.0);
  const auto two = dense(2);
  auto r = fused_layer(affine, two, inputs, /*inverse=*/true);
  ASSERT_TRUE(r.has_value());
  auto expected = fused_affine(two, inputs, 3.0, true);
  EXPECT_TRUE(torch::equal(r->output, expected.output));
  EXPECT_TRUE(torch::equal(r->log_det, expected.log_det));
  EXPECT_TRUE(torch::equal(r->output.select(1, 0), inputs.x.select(1, 0)));
  EXPECT_FALSE(fused_layer(affine, dense(3), inputs, true).has_value());
  auto gated = gated_affine_transform();
  EXPECT_FALSE(
      fused_layer(gated, dense(gated->parameters_per_feature()), inputs, true).has_value());
  EXPECT_FALSE(fused_layer(affine, std::nullopt, inputs, true).has_value());
  FusedKernelsGuard off(false);
  EXPECT_FALSE(fused_layer(affine, two, inputs, true).has_value());
}

}  // namespace
}  // namespace diffeo
