// The multi-scale Glow builder: its structure, the identity-like start, its
// errors, and a short fit on 8x8 images.  (The tiny Glow's property-harness
// cases are in bijectors/image_bijectors_test.cpp.)

#include "diffeo/flows/multiscale_glow.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "diffeo/bijectors/conv_coupling.h"
#include "diffeo/bijectors/factor_out.h"
#include "diffeo/bijectors/squeeze.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::flows {
namespace {

using testing::expect_error;

template <typename T>
int count(const Bijector& bijector) {
  int n = 0;
  for (const auto& m : bijector->modules())
    if (dynamic_cast<T*>(m.get())) ++n;
  return n;
}

TEST(MultiscaleGlow, HasTwoLevelsFor28x28AndThreeFor8x8ByDefault) {
  auto mnist = multiscale_glow_bijector(FlowOptions(784).image_shape({1, 28, 28}).layers(2));
  EXPECT_EQ(mnist->event_rank(), 1);
  EXPECT_EQ(count<SqueezeImpl>(mnist), 4);  // a squeeze and an unsqueeze per level
  EXPECT_EQ(count<FactorOutImpl>(mnist), 1);
  EXPECT_EQ(count<ConvCouplingImpl>(mnist), 4);
  auto small = multiscale_glow_bijector(FlowOptions(64).image_shape({1, 8, 8}).layers(1));
  EXPECT_EQ(count<FactorOutImpl>(small), 2);
  EXPECT_EQ(count<ConvCouplingImpl>(small), 3);
  auto two = multiscale_glow_bijector(FlowOptions(64).image_shape({1, 8, 8}).layers(1).levels(2));
  EXPECT_EQ(count<FactorOutImpl>(two), 1);
  // K = 8 steps per level by default.
  auto deep = multiscale_glow_bijector(FlowOptions(48).image_shape({3, 4, 4}).levels(1));
  EXPECT_EQ(count<ConvCouplingImpl>(deep), 8);
  EXPECT_EQ(count<FactorOutImpl>(deep), 0);
}

// Before ActNorm's initialisation every factor is volume and norm preserving:
// identity couplings and prior, orthogonal 1x1 convolutions, permutations. So
// log_prob is exactly the standard normal's.
TEST(MultiscaleGlow, NewFlowIsAnOrthogonalMapOfTheBase) {
  torch::manual_seed(60);
  auto bijector = multiscale_glow_bijector(
      FlowOptions(32).image_shape({2, 4, 4}).layers(2).hidden({8}).seed(4));
  auto flow = Transformed(StandardNormal(32), bijector);
  flow->eval();
  torch::NoGradGuard no_grad;
  auto y = torch::randn({10, 32});
  auto expected = -0.5 * y.pow(2).sum(1) - 16 * std::log(2 * M_PI);
  EXPECT_TRUE(torch::allclose(flow->log_prob(y), expected, 1e-4, 1e-4));
  auto z = bijector->inverse(y);
  EXPECT_GT((z - y).abs().max().item<double>(), 0.1);  // not the identity
  EXPECT_TRUE(torch::allclose(bijector->forward(z), y, 1e-4, 1e-4));
}

TEST(MultiscaleGlow, RefusesMissingOrUnsqueezableImageShapes) {
  expect_error([] { multiscale_glow_bijector(FlowOptions(16)); },
               {"MultiscaleGlow", "'image_shape'", "[C, H, W]"});
  expect_error(
      [] {
        multiscale_glow_bijector(FlowOptions(49).image_shape({1, 7, 7}));
      },
      {"MultiscaleGlow", "'image_shape'", "[1, 7, 7]", "cannot be squeezed"});
  expect_error(
      [] {
        multiscale_glow_bijector(FlowOptions(144).image_shape({1, 12, 12}).levels(3));
      },
      {"MultiscaleGlow", "[1, 12, 12]", "3 time(s)", "levels 3"});
  expect_error(
      [] {
        multiscale_glow_bijector(FlowOptions(50).image_shape({1, 7, 7}));
      },
      {"MultiscaleGlow", "'image_shape'", "dim 50"});
  expect_error(
      [] {
        multiscale_glow_bijector(FlowOptions(64).image_shape({1, 8, 8}).levels(-1));
      },
      {"MultiscaleGlow", "'levels'", "-1"});
}

// 256 fixed 8x8 images with structure: a random 2x2 pattern upsampled
// smoothly, plus a little noise.
torch::Tensor smooth_images(int64_t n) {
  namespace F = torch::nn::functional;
  auto coarse = torch::randn({n, 1, 2, 2});
  auto fine = F::interpolate(coarse, F::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{8, 8})
                                         .mode(torch::kBilinear)
                                         .align_corners(false));
  return (fine + 0.1 * torch::randn_like(fine)).flatten(1);
}

TEST(MultiscaleGlow, ShortFitOn8x8ImagesLowersTheNegativeLogLikelihood) {
  torch::manual_seed(61);
  auto data = smooth_images(256);
  auto flow =
      Transformed(StandardNormal(64),
                  multiscale_glow_bijector(
                      FlowOptions(64).image_shape({1, 8, 8}).layers(2).hidden({16}).seed(5)));
  auto nll = [&] {
    torch::NoGradGuard no_grad;
    return -flow->log_prob(data).mean().item<double>();
  };
  const double before = nll();  // the first call initialises every ActNorm on the data
  torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(3e-3));
  for (int step = 0; step < 30; ++step) {
    auto batch = data.index_select(0, torch::randperm(256).narrow(0, 0, 64));
    auto loss = -flow->log_prob(batch).mean();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  const double after = nll();
  std::cout << "[ info ] 8x8 Glow NLL (nats/image): " << before << " -> " << after << "\n";
  EXPECT_LT(after, before - 30);

  torch::NoGradGuard no_grad;
  auto samples = flow->sample(5, {}, at::make_generator<at::CPUGeneratorImpl>(3));
  EXPECT_EQ(samples.sizes(), torch::IntArrayRef({5, 64}));
  EXPECT_TRUE(torch::isfinite(flow->log_prob(samples)).all().item<bool>());
}

// A measurement, not a test: time of one training step (log_prob, backward,
// Adam) of a 28x28x1 Glow with K = 8, hidden 64, batch 64, 2 threads.  Run with
// --gtest_also_run_disabled_tests --gtest_filter='*TrainingStep*'.
TEST(MultiscaleGlow, DISABLED_TimeOfATrainingStepOn28x28) {
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  torch::manual_seed(62);
  auto flow = Transformed(
      StandardNormal(784),
      multiscale_glow_bijector(FlowOptions(784).image_shape({1, 28, 28}).layers(8).hidden({64})));
  auto data = torch::rand({64, 784});
  torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(1e-3));
  auto step = [&] {
    auto loss = -flow->log_prob(data).mean();
    adam.zero_grad();
    loss.backward();
    adam.step();
  };
  for (int i = 0; i < 2; ++i) step();  // warm-up, ActNorm initialisation
  // Each step's time: on a shared machine the fastest is the least disturbed.
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  std::cout << "[ info ] 28x28 Glow (K=8, hidden 64, batch 64, 2 threads), ms per training step: "
            << "fastest " << times.front() << ", median " << times[times.size() / 2] << "\n";
  torch::set_num_threads(threads);
}

}  // namespace
}  // namespace diffeo::flows
