// nn::ConvNet, Glow's convolutional conditioner.

#include "diffeo/nn/conv_net.h"

#include <gtest/gtest.h>

#include "diffeo/testing/expect_error.h"

namespace diffeo::nn {
namespace {

using testing::expect_error;

TEST(ConvNet, ZeroLastLayerStartsAtZeroAndKeepsHeightAndWidth) {
  auto net = ConvNet(ConvNetOptions(3, 5).hidden_channels(8));
  auto out = net->forward(torch::randn({2, 3, 7, 6}));
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({2, 5, 7, 6}));
  EXPECT_TRUE(torch::equal(out, torch::zeros({2, 5, 7, 6})));
  EXPECT_EQ(net->named_parameters().size(), 6u);  // conv0..2, weight and bias each
}

TEST(ConvNet, FlattensAnyNumberOfBatchDimensions) {
  torch::manual_seed(50);
  auto net = ConvNet(ConvNetOptions(2, 4).hidden_channels(8).zero_last_layer(false));
  auto x = torch::randn({2, 3, 2, 4, 4});
  auto out = net->forward(x);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({2, 3, 4, 4, 4}));
  EXPECT_GT(out.abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(torch::allclose(out.reshape({6, 4, 4, 4}), net->forward(x.reshape({6, 2, 4, 4}))));
  EXPECT_TRUE(torch::allclose(net->forward(x[1][2]), out[1][2]));  // no batch dimension
}

// A context row is K constant channels: the net equals one built for in + K
// channels fed the concatenation explicitly.
TEST(ConvNet, ContextIsAppendedAsConstantChannels) {
  torch::manual_seed(51);
  auto net =
      ConvNet(ConvNetOptions(2, 3).hidden_channels(8).context_features(2).zero_last_layer(false));
  auto plain = ConvNet(ConvNetOptions(4, 3).hidden_channels(8).zero_last_layer(false));
  {
    torch::NoGradGuard no_grad;
    auto from = net->parameters(), to = plain->parameters();
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  auto x = torch::randn({5, 2, 3, 4});
  auto context = torch::randn({5, 2});
  auto channels = context.reshape({5, 2, 1, 1}).expand({5, 2, 3, 4});
  auto out = net->forward(x, context);
  EXPECT_TRUE(torch::allclose(out, plain->forward(torch::cat({x, channels}, 1)), 1e-6, 1e-6));
  EXPECT_GT((out - net->forward(x, context + 1)).abs().max().item<double>(), 1e-3);
  // One context row broadcasts over the batch.
  EXPECT_TRUE(
      torch::allclose(net->forward(x, context[0]), net->forward(x, context[0].expand({5, 2}))));
}

TEST(ConvNet, RefusesBadOptionsInputsAndContexts) {
  expect_error([] { ConvNet(ConvNetOptions(0, 2)); }, {"ConvNet", "'in_channels'", "0"});
  expect_error([] { ConvNet(ConvNetOptions(2, 2).hidden_channels(-1)); },
               {"ConvNet", "'hidden_channels'", "-1"});
  expect_error([] { ConvNet(ConvNetOptions(2, 2).activation("sigmoidal")); },
               {"ConvNet", "'activation'", "sigmoidal", "relu"});
  expect_error(
      [] {
        ConvNet(ConvNetOptions(2, 2))->forward(torch::zeros({4, 3, 5, 5}));
      },
      {"ConvNet", "'x'", "[4, 3, 5, 5]", "[batch..., 2, H, W]"});
  expect_error(
      [] {
        ConvNet(ConvNetOptions(2, 2).context_features(3))->forward(torch::zeros({4, 2, 5, 5}));
      },
      {"ConvNet", "context", "3"});
  expect_error(
      [] {
        ConvNet(ConvNetOptions(2, 2).context_features(3))
            ->forward(torch::zeros({4, 2, 5, 5}), torch::zeros({5, 3}));
      },
      {"ConvNet", "'context'", "[5, 3]", "[4]"});
}

}  // namespace
}  // namespace diffeo::nn
