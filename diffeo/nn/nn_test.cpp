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

}  // namespace
}  // namespace diffeo::nn
