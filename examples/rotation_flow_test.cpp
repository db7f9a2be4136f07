// The rotation experiment, shortened: the fit must bring the learned Gaussian
// within KL 0.05 nats of the truth (the example, 5x longer, reaches < 0.01).

#include "rotation_flow.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

TEST(GaussianKL, ZeroForEqualAndClosedFormForShiftedMeans) {
  auto m = torch::tensor({1.0, 2.0}, torch::kFloat64);
  auto S = torch::tensor({{2.0, 0.5}, {0.5, 1.0}}, torch::kFloat64);
  EXPECT_NEAR(rotation_flow::gaussian_kl(m, S, m, S), 0.0, 1e-12);
  auto I = torch::eye(2, torch::kFloat64);
  // KL(N(0, I) || N(m, 4 I)) = 0.5 (2/4 + |m|^2/4 - 2 + 2 log 4)
  const double expected = 0.5 * (0.5 + 5.0 / 4 - 2 + 2 * std::log(4.0));
  EXPECT_NEAR(rotation_flow::gaussian_kl(torch::zeros({2}, torch::kFloat64), I, m, 4 * I), expected,
              1e-12);
}

TEST(RotationFlow, StartsFarFromTheTruth) {
  rotation_flow::Options options;
  options.steps = 0;
  EXPECT_GT(rotation_flow::fit(options).kl, 1.0);
}

TEST(RotationFlow, MaximumLikelihoodRecoversTheRotatedGaussian) {
  rotation_flow::Options options;
  options.steps = 600;
  auto report = rotation_flow::fit(options);
  EXPECT_LT(report.kl, 0.05);
  // Scales are identified up to order: {0.75, 3} in either position.
  const double small = std::min(report.scale[0], report.scale[1]);
  const double large = std::max(report.scale[0], report.scale[1]);
  EXPECT_NEAR(small, 0.75, 0.1);
  EXPECT_NEAR(large, 3.0, 0.3);
}

}  // namespace
