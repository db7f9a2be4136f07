// The conditioner networks: MLP and MADE.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::nn {
namespace {

using testing::expect_error;

TEST(MLP, ZeroLastLayerStartsAtZeroAndTakesContext) {
  auto mlp = MLP(MLPOptions(3, 4).hidden({8, 8}).context_features(2));
  auto out = mlp->forward(torch::randn({5, 3}), torch::randn({5, 2}));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({5, 4}));
  EXPECT_TRUE(torch::equal(out, torch::zeros({5, 4})));
  auto random = MLP(MLPOptions(3, 4).zero_last_layer(false).context_features(2));
  auto x = torch::randn({5, 3});
  auto a = random->forward(x, torch::zeros({5, 2})), b = random->forward(x, torch::ones({5, 2}));
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-4);
  // One context row for the whole batch broadcasts.
  EXPECT_EQ(random->forward(x, torch::ones({2})).sizes(), torch::IntArrayRef({5, 4}));
}

TEST(MLP, BadOptionsAndMissingContext) {
  expect_error([] { (void)MLP(MLPOptions(0, 2)); }, {"MLP", "'in_features'", "0"});
  expect_error([] { (void)MLP(MLPOptions(2, 2).activation("sigmoidal")); },
               {"MLP", "'activation'", "sigmoidal", "relu"});
  expect_error(
      [] {
        MLP(MLPOptions(2, 2).context_features(3))->forward(torch::randn({4, 2}));
      },
      {"MLP", "context", "3"});
  expect_error(
      [] {
        MLP(MLPOptions(2, 2).context_features(3))
            ->forward(torch::randn({4, 2}), torch::randn({5, 3}));
      },
      {"MLP", "'context'", "[5, 3]", "[4]"});
}

// Perturbing input i may change only the outputs of features later than i in
// the autoregressive order, for every i, in both orders.
TEST(MADE, OutputsAreAutoregressiveInTheInputs) {
  for (int64_t context_features : {0, 2})
    for (bool reverse : {false, true}) {
      torch::manual_seed(3);
      const int64_t D = 5;
      auto made = MADE(MADEOptions(D)
                           .hidden({16, 16})
                           .outputs_per_feature(3)
                           .zero_last_layer(false)
                           .reverse_order(reverse)
                           .context_features(context_features));
      auto degrees = made->input_degrees();
      auto x = torch::randn({4, D});
      auto context = context_features ? torch::randn({4, context_features}) : torch::Tensor();
      auto base = made->forward(x, context);
      ASSERT_EQ(base.sizes(), torch::IntArrayRef({4, D, 3}));
      for (int64_t i = 0; i < D; ++i) {
        auto moved = x.clone();
        moved.select(1, i).add_(1.0);
        auto change = (made->forward(moved, context) - base).abs().amax({0, 2});  // per feature
        for (int64_t j = 0; j < D; ++j) {
          const bool may_depend = degrees[j].item<double>() > degrees[i].item<double>();
          if (may_depend)
            EXPECT_GT(change[j].item<double>(), 1e-6) << "feature " << j << " ignores input " << i;
          else
            EXPECT_EQ(change[j].item<double>(), 0.0) << "feature " << j << " sees input " << i;
        }
      }
    }
}

TEST(MADE, ContextReachesEveryOutput) {
  torch::manual_seed(4);
  auto made = MADE(MADEOptions(3).context_features(2).zero_last_layer(false));
  auto x = torch::randn({6, 3});
  auto change = (made->forward(x, torch::zeros({6, 2})) - made->forward(x, torch::ones({6, 2})))
                    .abs()
                    .amax({0, 2});
  EXPECT_TRUE((change > 1e-6).all().item<bool>()) << change;
  expect_error([&] { made->forward(x); }, {"MADE", "context", "2"});
}

TEST(MADE, ZeroLastLayerAndBadOptions) {
  auto made = MADE(MADEOptions(4));
  EXPECT_TRUE(torch::equal(made->forward(torch::randn({2, 4})), torch::zeros({2, 4, 2})));
  expect_error([] { (void)MADE(MADEOptions(0)); }, {"MADE", "'features'"});
  expect_error([] { (void)MADE(MADEOptions(3).hidden({})); }, {"MADE", "'hidden'"});
}

// The kernels with MADE's degrees against the same kernels with its 0/1 masks,
// in float64, forward and backward: with the weights as MADE keeps them (zero
// outside the mask: used in place, no copy) and with stray values there (a
// model file from before, a user's edit: masked as before).
TEST(MADE, KernelDegreesMaskLikeTheMasks) {
  torch::manual_seed(5);
  auto made = MADE(MADEOptions(6).hidden({16, 12}).outputs_per_feature(3).zero_last_layer(false)
                       .reverse_order(true));
  made->to(torch::kDouble);
  auto by_degrees = *made->dense_layers();
  ASSERT_EQ(by_degrees.degrees.size(), 4u);
  DenseLayers by_masks{by_degrees.weights, by_degrees.biases, {}, by_degrees.activation};
  for (const auto& item : made->named_buffers())
    if (item.key().rfind("mask", 0) == 0) by_masks.masks.push_back(item.value().to(torch::kDouble));
  ASSERT_EQ(by_masks.masks.size(), 3u);
  for (size_t l = 0; l < 3; ++l)  // MADE starts its weights at zero outside the mask
    EXPECT_TRUE(torch::equal(by_degrees.weights[l], by_degrees.weights[l] * by_masks.masks[l]));

  const auto x = torch::randn({9, 6}, torch::kDouble);
  const auto grad_out = torch::randn({9, 18}, torch::kDouble);
  for (bool stray : {false, true}) {
    if (stray) {
      torch::NoGradGuard no_grad;
      for (size_t l = 0; l < 3; ++l)
        by_degrees.weights[l].add_((1 - by_masks.masks[l]) * torch::randn_like(by_masks.masks[l]));
    }
    DenseTape tape_degrees, tape_masks;
    auto out_degrees = dense_forward(by_degrees, x, &tape_degrees);
    auto out_masks = dense_forward(by_masks, x, &tape_masks);
    EXPECT_TRUE(torch::allclose(out_degrees, out_masks, 1e-14, 1e-14)) << "stray " << stray;
    EXPECT_TRUE(torch::allclose(dense_forward(by_degrees, x), out_masks, 1e-14, 1e-14));
    for (size_t l = 0; l < 3; ++l)
      EXPECT_EQ(tape_degrees.weights[l].data_ptr() == by_degrees.weights[l].data_ptr(), !stray)
          << "layer " << l << " stray " << stray;
    std::vector<torch::Tensor> gw_degrees, gb_degrees, gw_masks, gb_masks;
    auto gx_degrees = dense_backward(by_degrees, x, tape_degrees, grad_out, gw_degrees, gb_degrees);
    auto gx_masks = dense_backward(by_masks, x, tape_masks, grad_out, gw_masks, gb_masks);
    EXPECT_TRUE(torch::allclose(gx_degrees, gx_masks, 1e-14, 1e-14));
    for (size_t l = 0; l < 3; ++l) {
      EXPECT_TRUE(torch::equal(gw_degrees[l], gw_masks[l])) << "layer " << l;
      EXPECT_TRUE(torch::equal(gb_degrees[l], gb_masks[l])) << "layer " << l;
      EXPECT_EQ((gw_degrees[l] * (1 - by_masks.masks[l])).abs().max().item<double>(), 0.0);
    }
  }
}

// Wide enough for the weight gradients to be computed in several blocks of
// rows (93-row blocks for 700 inputs, 327-row blocks for the 200-wide last
// hidden layer), each masked as it is made: against autograd through ATen's
// products of the masked weights, in float64, on one and on two threads.
TEST(MADE, BlockedWeightGradientsMatchAutograd) {
  torch::manual_seed(6);
  auto made = MADE(MADEOptions(700).hidden({300, 200}).outputs_per_feature(2)
                       .zero_last_layer(false));
  made->to(torch::kDouble);
  const auto layers = *made->dense_layers();
  std::vector<torch::Tensor> masks;
  for (const auto& item : made->named_buffers())
    if (item.key().rfind("mask", 0) == 0) masks.push_back(item.value().to(torch::kDouble));
  ASSERT_EQ(masks.size(), 3u);
  const auto x = torch::randn({5, 700}, torch::kDouble);
  const auto grad_out = torch::randn({5, 1400}, torch::kDouble);
  std::vector<torch::Tensor> weights;
  auto h = x;
  for (size_t l = 0; l < 3; ++l) {
    weights.push_back(layers.weights[l].detach().clone().requires_grad_());
    h = torch::nn::functional::linear(h, weights[l] * masks[l], layers.biases[l].detach());
    if (l < 2) h = torch::relu(h);
  }
  (h * grad_out).sum().backward();
  const int saved = torch::get_num_threads();
  for (int threads : {1, 2}) {
    torch::set_num_threads(threads);
    DenseTape tape;
    dense_forward(layers, x, &tape);
    std::vector<torch::Tensor> gw, gb;
    dense_backward(layers, x, tape, grad_out, gw, gb);
    for (size_t l = 0; l < 3; ++l) {
      EXPECT_TRUE(torch::allclose(gw[l], weights[l].grad(), 1e-12, 1e-12))
          << "layer " << l << ", " << threads << " thread(s)";
      EXPECT_GT(gw[l].abs().sum().item<double>(), 0);
    }
  }
  torch::set_num_threads(saved);
}

}  // namespace
}  // namespace diffeo::nn
