// MAF's sampling direction by one incremental MADE pass (nn/made_sampler.h)
// against the D-pass path it replaces, in float64, over the MADE's shapes.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/autoregressive.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/core/fusion.h"
#include "diffeo/nn/made_sampler.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

struct Case {
  int64_t features;
  std::vector<int64_t> hidden;
  bool reverse;
  std::string activation;
  int64_t context;
  bool spline;

  std::string describe() const {
    std::string widths;
    for (auto w : hidden) widths += std::to_string(w) + " ";
    return "D " + std::to_string(features) + ", hidden " + widths + (reverse ? "reversed, " : "") +
           activation + ", context " + std::to_string(context) + (spline ? ", spline" : ", affine");
  }
};

// A float64 layer with PyTorch's default initialisation everywhere (the last
// layer too), scaled up so that the transforms are far from the identity.
MaskedAutoregressive random_layer(const Case& c) {
  auto transform = c.spline ? spline_transform(4, {2.0}) : affine_transform(1.5);
  auto made = nn::MADE(nn::MADEOptions(c.features)
                           .hidden(c.hidden)
                           .activation(c.activation)
                           .context_features(c.context)
                           .reverse_order(c.reverse)
                           .outputs_per_feature(transform->parameters_per_feature())
                           .zero_last_layer(false));
  MaskedAutoregressive layer(made, transform);
  layer->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : layer->parameters()) p.mul_(2.0);
  return layer;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  // Narrower and wider than D, one to three hidden layers.
  const std::vector<std::vector<int64_t>> widths = {{3}, {24}, {4, 30}, {20, 2, 9}};
  for (int64_t D : {1, 2, 5, 17})
    for (const auto& hidden : widths)
      for (bool reverse : {false, true})
        for (const char* activation : {"relu", "tanh"})
          for (int64_t context : {0, 3})
            for (bool spline : {false, true})
              cases.push_back({D, hidden, reverse, activation, context, spline});
  return cases;
}

TEST(MAFIncrementalSampling, MatchesTheDPassPath) {
  torch::manual_seed(3);
  for (const auto& c : all_cases()) {
    SCOPED_TRACE(c.describe());
    auto layer = random_layer(c);
    auto x = torch::randn({6, c.features}, torch::kDouble) * 1.5;
    auto context = c.context ? torch::randn({6, c.context}, torch::kDouble) : torch::Tensor();
    torch::NoGradGuard no_grad;
    ASSERT_TRUE(nn::made_autoregressive_pass_applies(*layer->made(), x, context));
    auto fast = layer->incremental_forward(x, context);
    Result slow;
    {
      FusedKernelsGuard off(false);
      ASSERT_FALSE(nn::made_autoregressive_pass_applies(*layer->made(), x, context));
      slow = layer->forward_and_log_det(x, context);
    }
    EXPECT_TRUE(torch::allclose(fast.output, slow.output, 1e-12, 1e-12))
        << (fast.output - slow.output).abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(fast.log_det, slow.log_det, 1e-12, 1e-12))
        << (fast.log_det - slow.log_det).abs().max().item<double>();
    // Not the identity: the comparison above has something to compare.
    EXPECT_GT((fast.output - x).abs().max().item<double>(), 1e-3);
    // And the inverse (one parallel pass) undoes it.
    EXPECT_TRUE(
        torch::allclose(layer->inverse_and_log_det(fast.output, context).output, x, 1e-9, 1e-9));
  }
}

// The D-pass path (which transforms the degree-1 coordinate, first or last,
// with constant parameters from one row of the MADE when there is no context)
// on a batch of rank 2 equals the same rows flattened, and the incremental
// pass on them; the fused path (a flat batch) equals them too.
TEST(MAFIncrementalSampling, DPassPathTakesAnyBatchShape) {
  torch::manual_seed(5);
  for (int64_t D : {2, 3})
    for (bool reverse : {false, true})
      for (bool spline : {false, true}) {
        const Case c{D, {6, 6}, reverse, "tanh", 0, spline};
        auto layer = random_layer(c);
        auto x = torch::randn({2, 3, D}, torch::kDouble);
        torch::NoGradGuard no_grad;
        Result batched, flat;
        {
          FusedKernelsGuard off(false);
          batched = layer->forward_and_log_det(x);
          flat = layer->forward_and_log_det(x.reshape({6, D}));
        }
        EXPECT_TRUE(torch::equal(batched.output.reshape({6, D}), flat.output)) << c.describe();
        EXPECT_TRUE(torch::equal(batched.log_det.reshape({6}), flat.log_det)) << c.describe();
        auto fast = layer->incremental_forward(x.reshape({6, D}), {});
        EXPECT_TRUE(torch::allclose(fast.output, flat.output, 1e-12, 1e-12)) << c.describe();
        EXPECT_TRUE(torch::allclose(fast.log_det, flat.log_det, 1e-12, 1e-12)) << c.describe();
        auto fused = layer->forward_and_log_det(x.reshape({6, D}));
        EXPECT_TRUE(torch::allclose(fused.output, flat.output, 1e-12, 1e-12)) << c.describe();
        EXPECT_TRUE(torch::allclose(fused.log_det, flat.log_det, 1e-12, 1e-12)) << c.describe();
        EXPECT_TRUE(torch::allclose(layer->inverse(batched.output), x, 1e-9, 1e-9))
            << c.describe();
      }
}

// The parameters each step receives are the MADE's outputs for the final
// inputs, and the steps come in the autoregressive order.
TEST(MAFIncrementalSampling, StepsSeeTheMADEOutputsOfTheFinalInputsInOrder) {
  torch::manual_seed(4);
  for (bool reverse : {false, true}) {
    auto made = nn::MADE(nn::MADEOptions(7)
                             .hidden({5, 11})
                             .context_features(2)
                             .outputs_per_feature(3)
                             .reverse_order(reverse)
                             .zero_last_layer(false));
    made->to(torch::kDouble);
    auto x = torch::zeros({4, 7}, torch::kDouble);
    auto context = torch::randn({4, 2}, torch::kDouble);
    auto values = torch::randn({4, 7}, torch::kDouble);
    auto params = torch::zeros({4, 7, 3}, torch::kDouble);
    std::vector<int64_t> order;
    torch::NoGradGuard no_grad;
    nn::made_autoregressive_pass(*made, x, context, [&](int64_t i, const torch::Tensor& p) {
      order.push_back(i);
      params.select(1, i).copy_(p);
      return values.select(1, i);
    });
    std::vector<int64_t> expected{0, 1, 2, 3, 4, 5, 6};
    if (reverse) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(order, expected);
    EXPECT_TRUE(torch::allclose(params, made->forward(values, context), 1e-12, 1e-12));
  }
}

// Through forward (D from which it takes the incremental pass).
TEST(MAFIncrementalSampling, BatchShapesAndABroadcastContext) {
  torch::manual_seed(5);
  const int64_t D = MaskedAutoregressiveImpl::kIncrementalFeatures;
  auto layer = random_layer({D, {8}, true, "tanh", 2, false});
  auto x = torch::randn({2, 3, D}, torch::kDouble);
  auto context = torch::randn({3, 2}, torch::kDouble);
  torch::NoGradGuard no_grad;
  auto fast = layer->forward_and_log_det(x, context);
  FusedKernelsGuard off(false);
  auto slow = layer->forward_and_log_det(x, context);
  EXPECT_EQ(fast.output.sizes(), x.sizes());
  EXPECT_EQ(fast.log_det.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(torch::allclose(fast.output, slow.output, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(fast.log_det, slow.log_det, 1e-12, 1e-12));
}

// With parameters or an input that require grad and grad mode on, sampling
// takes the D-pass path and gradients reach them.
TEST(MAFIncrementalSampling, GradModeFallsBackAndGivesGradients) {
  torch::manual_seed(6);
  auto layer = random_layer({4, {10}, false, "relu", 0, false});
  auto x = torch::randn({3, 4}, torch::kDouble);
  EXPECT_FALSE(nn::made_autoregressive_pass_applies(*layer->made(), x, {}));
  auto r = layer->forward_and_log_det(x);
  (r.output.sum() + r.log_det.sum()).backward();
  for (const auto& p : layer->made()->weights()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0);
  }
  // Frozen parameters, an input that requires grad: still the D-pass path.
  for (auto& p : layer->parameters()) p.requires_grad_(false);
  auto x_grad = x.clone().requires_grad_(true);
  EXPECT_FALSE(nn::made_autoregressive_pass_applies(*layer->made(), x_grad, {}));
  layer->forward_and_log_det(x_grad).output.sum().backward();
  ASSERT_TRUE(x_grad.grad().defined());
  EXPECT_GT(x_grad.grad().abs().sum().item<double>(), 0);
  EXPECT_TRUE(nn::made_autoregressive_pass_applies(*layer->made(), x, {}));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(nn::made_autoregressive_pass_applies(*layer->made(), x_grad, {}));
}

TEST(MAFIncrementalSampling, OtherActivationsAndDtypesTakeTheDPassPath) {
  torch::NoGradGuard no_grad;
  auto elu = random_layer({3, {6}, false, "elu", 0, false});
  auto x = torch::randn({2, 3}, torch::kDouble);
  EXPECT_FALSE(nn::made_autoregressive_pass_applies(*elu->made(), x, {}));
  auto relu = random_layer({3, {6}, false, "relu", 0, false});
  EXPECT_TRUE(nn::made_autoregressive_pass_applies(*relu->made(), x, {}));
  EXPECT_FALSE(nn::made_autoregressive_pass_applies(*relu->made(), x.to(torch::kFloat), {}));
}

TEST(MAFIncrementalSampling, AWrongWidthOrAGradientIsAnError) {
  auto made = nn::MADE(nn::MADEOptions(3).hidden({4}));
  auto step = [](int64_t, const torch::Tensor& p) { return p.select(1, 0); };
  torch::NoGradGuard no_grad;
  testing::expect_error(
      [&] {
        nn::made_autoregressive_pass(*made, torch::zeros({2, 4}), {}, step);
      },
      {"made_autoregressive_pass", "[batch..., 3]", "[2, 4]"});
  torch::AutoGradMode grad(true);
  testing::expect_error(
      [&] {
        nn::made_autoregressive_pass(*made, torch::zeros({2, 3}), {}, step);
      },
      {"made_autoregressive_pass", "no gradients"});
}

}  // namespace
}  // namespace diffeo
