// The image bijectors (Squeeze, Pixelwise, ConvCoupling, FactorOut, Reshaped)
// and a tiny multi-scale Glow through the property harness with random,
// non-identity parameters, then their layouts, identities at initialisation
// and errors.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/bijectors/conv_coupling.h"
#include "diffeo/bijectors/factor_out.h"
#include "diffeo/bijectors/pixelwise.h"
#include "diffeo/bijectors/reshaped.h"
#include "diffeo/bijectors/squeeze.h"
#include "diffeo/diffeo.h"
#include "diffeo/flows/multiscale_glow.h"
#include "diffeo/nn/conv_net.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::BijectorCase;
using testing::expect_error;

// A batch of images whose channel c has mean 1 - c and standard deviation 0.5 + c.
torch::Tensor skewed_images(std::vector<int64_t> shape) {
  const auto C = shape[shape.size() - 3];
  auto channel = torch::arange(C, torch::kFloat).reshape({C, 1, 1});
  return torch::randn(shape) * (0.5 + channel) + (1 - channel);
}

// Initialises every ActNorm on a skewed batch (a first inverse call in
// training mode), then moves every parameter away from its initial value, so
// no factor is trivial: zero-initialised conditioners would make couplings
// the identity.
template <typename Holder>
Holder prepared(Holder bijector, std::vector<int64_t> image_shape, int64_t context = 0) {
  image_shape.insert(image_shape.begin(), 32);
  auto first_batch = skewed_images(image_shape);
  if (bijector->event_rank() == 1) first_batch = first_batch.flatten(1);
  bijector->inverse(first_batch, context > 0 ? torch::randn({32, context}) : torch::Tensor());
  torch::NoGradGuard no_grad;
  for (auto& p : bijector->parameters()) p.add_(0.1 * torch::randn_like(p));
  return bijector;
}

torch::nn::AnyModule conv_net(int64_t in, int64_t out, int64_t context = 0) {
  return torch::nn::AnyModule(nn::ConvNet(
      nn::ConvNetOptions(in, out).hidden_channels(8).activation("tanh").context_features(context)));
}

// A shape-preserving image bijector that mixes the pixels of each 2x2 patch:
// squeeze, mix the 4C channels, unsqueeze.
Bijector patch_mixer(int64_t channels, uint64_t seed) {
  return Chain({Inverse(Squeeze()), invertible_conv_1x1(4 * channels, seed), Squeeze()});
}

std::vector<BijectorCase> image_cases() {
  auto extremes = [](std::vector<int64_t> shape) {  // [1, shape...] of +-1e3, 0 and 5
    int64_t size = 1;
    for (auto n : shape) size *= n;
    shape.insert(shape.begin(), 1);
    return torch::tensor({1e3, -1e3, 0.0, 5.0}).repeat({size / 4}).reshape(shape);
  };
  std::vector<BijectorCase> cases{
      {"SqueezeInAPatchMixer",
       [] {
         torch::manual_seed(30);
         return prepared(patch_mixer(2, 7), {2, 4, 4});
       },
       {2, 4, 4},
       {},
       {extremes({2, 4, 4})}},
      {"ActNorm2d",
       [] {
         torch::manual_seed(31);
         return prepared(act_norm_2d(3), {3, 4, 2});
       },
       {3, 4, 2},
       {},
       {torch::full({1, 3, 4, 2}, 1e6)}},
      {"InvertibleConv1x1",
       [] {
         torch::manual_seed(32);
         return prepared(invertible_conv_1x1(4, 3), {4, 2, 2});
       },
       {4, 2, 2},
       {},
       {torch::full({1, 4, 2, 2}, -1e6)}},
      {"Reshaped",
       [] {
         torch::manual_seed(33);
         return prepared(Reshaped(patch_mixer(2, 9), {2, 2, 2}), {2, 2, 2});
       },
       {8}},
  };
  for (int64_t context : {0, 2}) {
    const std::string suffix = context ? "WithContext" : "";
    cases.push_back(
        {"ConvCoupling" + suffix,
         [context] {
           torch::manual_seed(34);
           return prepared(ConvCoupling(3, conv_net(1, 4, context)), {3, 4, 4}, context);
         },
         {3, 4, 4},
         {},
         {extremes({3, 4, 4})},
         context});
    cases.push_back(
        {"FactorOut" + suffix,
         [context] {
           torch::manual_seed(35);
           auto inner = ConvCoupling(2, conv_net(1, 2, context));
           return prepared(FactorOut(4, inner, conv_net(2, 4, context)), {4, 2, 2}, context);
         },
         {4, 2, 2},
         {},
         {extremes({4, 2, 2})},
         context});
    cases.push_back(
        {"PixelwiseSplitCoupling" + suffix,
         [context] {
           torch::manual_seed(36);
           auto mlp = nn::MLP(
               nn::MLPOptions(2, 4).hidden({8}).activation("tanh").context_features(context));
           return prepared(
               Pixelwise(SplitCoupling(4, 2, torch::nn::AnyModule(mlp), affine_transform())),
               {4, 2, 2}, context);
         },
         {4, 2, 2},
         {},
         {},
         context});
    cases.push_back(
        {"MultiscaleGlow" + suffix,
         [context] {
           torch::manual_seed(37);
           auto options = flows::FlowOptions(16)
                              .image_shape({1, 4, 4})
                              .layers(2)
                              .hidden({8})
                              .context_features(context)
                              .seed(3);
           return prepared(flows::multiscale_glow_bijector(options), {1, 4, 4}, context);
         },
         {16},
         {},
         {},
         context});
  }
  return cases;
}

class ImageBijectorProperties : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(ImageBijectorProperties, All) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(ImageBijectors, ImageBijectorProperties,
                         ::testing::ValuesIn(image_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Squeeze, MovesEach2x2PatchIntoChannelsInTheDocumentedOrder) {
  auto x = torch::arange(2 * 2 * 4 * 6, torch::kFloat64).reshape({2, 2, 4, 6});
  auto forward = Squeeze()->forward_and_log_det(x);
  ASSERT_EQ(forward.output.sizes(), torch::IntArrayRef({2, 8, 2, 3}));
  EXPECT_TRUE(torch::equal(forward.log_det, torch::zeros({2}, torch::kFloat64)));
  auto y = forward.output.accessor<double, 4>();
  auto in = x.accessor<double, 4>();
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          for (int h = 0; h < 2; ++h)
            for (int w = 0; w < 3; ++w)
              EXPECT_EQ(y[b][4 * c + 2 * i + j][h][w], in[b][c][2 * h + i][2 * w + j]);
  auto back = Squeeze()->inverse_and_log_det(forward.output);
  EXPECT_TRUE(torch::equal(back.output, x));
  EXPECT_EQ(back.log_det.sizes(), torch::IntArrayRef({2}));
  // No batch dimensions, and several.
  EXPECT_TRUE(torch::equal(Squeeze()->forward(x[1]), forward.output[1]));
  EXPECT_TRUE(torch::equal(Squeeze()->forward(x.reshape({1, 2, 2, 4, 6})),
                           forward.output.reshape({1, 2, 8, 2, 3})));
}

TEST(Squeeze, RefusesOddSizesAndChannelsNotDivisibleBy4) {
  expect_error(
      [] {
        Squeeze()->forward(torch::zeros({2, 1, 3, 4}));
      },
      {"Squeeze", "'x'", "height 3", "width 4", "[2, 1, 3, 4]", "even H and W"});
  expect_error(
      [] {
        Squeeze()->forward(torch::zeros({1, 4, 5}));
      },
      {"Squeeze", "'x'", "width 5", "even"});
  expect_error(
      [] {
        Squeeze()->inverse(torch::zeros({2, 6, 2, 2}));
      },
      {"Squeeze", "'y'", "6 channels", "[2, 6, 2, 2]", "multiple of 4"});
  expect_error(
      [] {
        Squeeze()->forward(torch::zeros({4, 4}));
      },
      {"Squeeze", "'x'", "at least 3 dimension", "[4, 4]"});
}

// An image of the wrong channel count is described as the caller wrote it
// (C, H, W), not only as the inner bijector's channels-last pixels.
TEST(Pixelwise, WrongChannelsAreReportedInImageTerms) {
  expect_error([] { act_norm_2d(3)->forward(torch::zeros({2, 3, 4})); },
               {"Pixelwise", "'x'", "[2, 3, 4]", "[batch..., C, H, W] with C = 2 channels"});
  expect_error([] { invertible_conv_1x1(3, /*seed=*/0)->inverse(torch::zeros({5, 4, 2, 2})); },
               {"Pixelwise", "'y'", "[5, 4, 2, 2]", "C = 4 channels"});
}

TEST(Pixelwise, ActNormInitialisesOnStatisticsOverBatchAndPixels) {
  torch::manual_seed(40);
  auto act_norm = act_norm_2d(3);
  auto z = act_norm->inverse(skewed_images({64, 3, 5, 4}));
  auto mean = z.mean({0, 2, 3}), sd = z.std({0, 2, 3}, /*unbiased=*/false);
  EXPECT_LT(mean.abs().max().item<double>(), 1e-5);
  EXPECT_LT((sd - 1).abs().max().item<double>(), 1e-4);
  // One (loc, log_scale) per channel.
  auto inner = act_norm->as<PixelwiseImpl>()->bijector()->as<ActNormImpl>();
  ASSERT_NE(inner, nullptr);
  EXPECT_TRUE(inner->initialized());
  EXPECT_EQ(inner->loc().sizes(), torch::IntArrayRef({3}));
}

// Pixelwise(LULinear) is a 1x1 convolution with weight W and bias b; its
// log-det is H * W * log|det W|.
TEST(Pixelwise, InvertibleConv1x1IsA1x1Convolution) {
  torch::manual_seed(41);
  auto conv = prepared(invertible_conv_1x1(4, 5), {4, 3, 2});
  conv->to(torch::kFloat64);
  auto lu = conv->as<PixelwiseImpl>()->bijector()->as<LULinearImpl>();
  auto x = torch::randn({5, 4, 3, 2}, torch::kFloat64);
  auto r = conv->forward_and_log_det(x);
  auto expected = torch::conv2d(x, lu->weight().reshape({4, 4, 1, 1}), lu->bias());
  EXPECT_TRUE(torch::allclose(r.output, expected, 1e-12, 1e-12));
  auto log_det = 6 * std::get<1>(torch::linalg_slogdet(lu->weight()));
  EXPECT_TRUE(torch::allclose(r.log_det, log_det.expand({5}), 1e-12, 1e-12));
}

TEST(Pixelwise, RefusesABijectorThatIsNotOnVectors) {
  expect_error([] { (void)Pixelwise(Squeeze()); }, {"Pixelwise", "event rank 1", "event rank 3"});
  expect_error([] { (void)Pixelwise(Bijector(nullptr)); }, {"Pixelwise", "empty"});
  // The inner bijector checks the channel count in the channels-last layout.
  expect_error(
      [] {
        act_norm_2d(3)->forward(torch::zeros({2, 4, 5, 5}));
      },
      {"ActNorm", "event size 4", "event size 3"});
}

TEST(ConvCoupling, ZeroConditionerIsTheIdentity) {
  auto x = torch::randn({3, 5, 4, 4});
  auto coupling = ConvCoupling(5, torch::nn::AnyModule(nn::ConvNet(nn::ConvNetOptions(2, 6))));
  for (bool inverse : {false, true}) {
    auto r = inverse ? coupling->inverse_and_log_det(x) : coupling->forward_and_log_det(x);
    EXPECT_TRUE(torch::equal(r.output, x));
    EXPECT_TRUE(torch::equal(r.log_det, torch::zeros({3})));
  }
}

// With the default AffineTransform, channel c of the transformed half takes
// its shift from conditioner channel 2c and its raw log-scale from 2c + 1.
TEST(ConvCoupling, AppliesTheAffineMapWithTheDocumentedParameterLayout) {
  torch::manual_seed(42);
  auto net = nn::ConvNet(nn::ConvNetOptions(2, 4).hidden_channels(8).zero_last_layer(false));
  auto coupling = ConvCoupling(4, torch::nn::AnyModule(net), affine_transform(2.0));
  coupling->to(torch::kFloat64);
  auto x = torch::randn({3, 4, 2, 5}, torch::kFloat64);
  auto r = coupling->forward_and_log_det(x);
  torch::NoGradGuard no_grad;
  auto theta = net->forward(x.narrow(1, 0, 2));
  std::vector<torch::Tensor> channels, log_scales;
  for (int64_t c = 0; c < 2; ++c) {
    auto s = 2.0 * torch::tanh(theta.narrow(1, 2 * c + 1, 1) / 2.0);
    channels.push_back(x.narrow(1, 2 + c, 1) * torch::exp(s) + theta.narrow(1, 2 * c, 1));
    log_scales.push_back(s);
  }
  auto expected = torch::cat({x.narrow(1, 0, 2), torch::cat(channels, 1)}, 1);
  EXPECT_TRUE(torch::allclose(r.output, expected, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(r.log_det, torch::cat(log_scales, 1).sum({1, 2, 3}), 1e-12, 1e-12));
}

TEST(ConvCoupling, RefusesBadChannelsAndConditioners) {
  expect_error([] { ConvCoupling(1, conv_net(1, 2)); },
               {"ConvCoupling", "'channels'", ">= 2", "1"});
  expect_error([] { ConvCoupling(4, torch::nn::AnyModule()); }, {"ConvCoupling", "'conditioner'"});
  expect_error(
      [] {
        ConvCoupling(4, conv_net(2, 4))->forward(torch::zeros({2, 3, 4, 4}));
      },
      {"ConvCoupling", "'x'", "3 channels", "[2, 3, 4, 4]", "4 channels"});
  expect_error(
      [] {
        ConvCoupling(4, conv_net(2, 6))->inverse(torch::zeros({2, 4, 4, 4}));
      },
      {"ConvCoupling", "conditioner returned shape [2, 6, 4, 4]", "[2, 4, 4, 4]",
       "2 channels x 2 parameters"});
}

// A FactorOut on its own is a flow whose base (z1, z2) ~ N(0, I) is the
// factorised prior: log p(y) = log N(inner^-1(y1)) + inner's log-det
// + log N(y2; mu(y1), sigma(y1)^2).
TEST(FactorOut, IsTheInnerFlowTimesAConditionalGaussianPrior) {
  torch::manual_seed(43);
  auto net = nn::ConvNet(nn::ConvNetOptions(2, 4).hidden_channels(8).zero_last_layer(false));
  auto inner = prepared(invertible_conv_1x1(2, 1), {2, 3, 3});
  auto factor_out = FactorOut(4, inner, torch::nn::AnyModule(net), affine_transform(3.0));
  auto flow = Transformed(StandardNormal(36), Reshaped(factor_out, {4, 3, 3}));
  flow->to(torch::kFloat64);
  auto y = torch::randn({6, 4, 3, 3}, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto y1 = y.narrow(1, 0, 2), y2 = y.narrow(1, 2, 2);
  auto theta = net->forward(y1);
  std::vector<torch::Tensor> mu, log_sigma;
  for (int64_t c = 0; c < 2; ++c) {
    mu.push_back(theta.narrow(1, 2 * c, 1));
    log_sigma.push_back(3.0 * torch::tanh(theta.narrow(1, 2 * c + 1, 1) / 3.0));
  }
  auto m = torch::cat(mu, 1), s = torch::cat(log_sigma, 1);
  const double half_log_2pi = 0.5 * std::log(2 * M_PI);
  auto gaussian = [&](const torch::Tensor& v, const torch::Tensor& loc, const torch::Tensor& ls) {
    return (-0.5 * ((v - loc) * torch::exp(-ls)).pow(2) - ls - half_log_2pi).sum({1, 2, 3});
  };
  auto z1 = inner->inverse_and_log_det(y1);
  auto expected = gaussian(z1.output, torch::zeros_like(y1), torch::zeros_like(y1)) + z1.log_det +
                  gaussian(y2, m, s);
  EXPECT_TRUE(torch::allclose(flow->log_prob(y.flatten(1)), expected, 1e-10, 1e-10));
}

TEST(FactorOut, ZeroConditionerGivesAStandardNormalPriorOnTheFactoredHalf) {
  torch::manual_seed(44);
  auto inner = prepared(invertible_conv_1x1(3, 2), {3, 2, 2});
  auto factor_out = FactorOut(6, inner, conv_net(3, 6));
  auto y = torch::randn({4, 6, 2, 2});
  auto r = factor_out->inverse_and_log_det(y);
  auto z1 = inner->inverse_and_log_det(y.narrow(1, 0, 3));
  EXPECT_TRUE(torch::equal(r.output.narrow(1, 3, 3), y.narrow(1, 3, 3)));
  EXPECT_TRUE(torch::allclose(r.output.narrow(1, 0, 3), z1.output));
  EXPECT_TRUE(torch::allclose(r.log_det, z1.log_det));
}

TEST(FactorOut, RefusesBadInnerBijectorsAndChannels) {
  expect_error([] { FactorOut(4, Reverse(), conv_net(2, 4)); },
               {"FactorOut", "'inner'", "event rank 3", "event rank 1"});
  expect_error([] { FactorOut(1, Squeeze(), conv_net(1, 2)); }, {"FactorOut", "'channels'", "1"});
  expect_error([] { FactorOut(4, Bijector(nullptr), conv_net(2, 4)); },
               {"FactorOut", "'inner'", "empty"});
  // The inner bijector must keep its shape: a squeeze does not.
  expect_error(
      [] {
        FactorOut(4, Inverse(Squeeze()), conv_net(2, 4))->inverse(torch::zeros({1, 4, 4, 4}));
      },
      {"FactorOut", "changed the shape [1, 2, 4, 4]", "[1, 8, 2, 2]"});
  expect_error(
      [] {
        FactorOut(4, Squeeze(), conv_net(2, 4))->forward(torch::zeros({1, 5, 4, 4}));
      },
      {"FactorOut", "'x'", "5 channels", "4 channels"});
}

TEST(Reshaped, FlattensTheInnerBijectorsOutputAndKeepsItsLogDet) {
  torch::manual_seed(45);
  auto inner = prepared(act_norm_2d(2), {2, 3, 2});
  auto reshaped = Reshaped(inner, {2, 3, 2});
  auto images = torch::randn({4, 5, 2, 3, 2});
  auto flat = reshaped->forward_and_log_det(images.reshape({4, 5, 12}));
  auto direct = inner->forward_and_log_det(images);
  EXPECT_TRUE(torch::equal(flat.output, direct.output.reshape({4, 5, 12})));
  EXPECT_TRUE(torch::equal(flat.log_det, direct.log_det));
  EXPECT_EQ(reshaped->shape(), (std::vector<int64_t>{2, 3, 2}));
}

TEST(Reshaped, RefusesMismatchedShapes) {
  expect_error(
      [] {
        Reshaped(Squeeze(), {4, 4});
      },
      {"Reshaped", "'shape'", "[4, 4]", "rank 2", "event rank 3"});
  expect_error([] { Reshaped(Squeeze(), {1, 0, 4}); }, {"Reshaped", "'shape'", "positive", "0"});
  expect_error(
      [] {
        Reshaped(Squeeze(), {1, 4, 4})->forward(torch::zeros({2, 15}));
      },
      {"Reshaped", "'x'", "event size 15", "event size 16"});
  expect_error(
      [] {
        Reshaped(Squeeze(), {1, 4, 4})->forward(torch::zeros({2, 16}));
      },
      {"Reshaped", "changed the shape [2, 1, 4, 4]", "[2, 4, 2, 2]"});
}

}  // namespace
}  // namespace diffeo
