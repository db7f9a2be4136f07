// LULinear beyond the generic properties (normalization_test.cpp): the log-det
// against slogdet of the assembled W, the solves against a dense solve, seeding.

#include "diffeo/bijectors/lu_linear.h"

#include <gtest/gtest.h>

#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::expect_error;

LULinear perturbed_float64(LULinearOptions options) {
  LULinear linear(options);
  linear->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : linear->parameters()) p.add_(0.5 * torch::randn_like(p));
  return linear;
}

TEST(LULinear, LogDetIsSlogdetOfTheAssembledWeight) {
  torch::manual_seed(20);
  auto linear = perturbed_float64(LULinearOptions(5).seed(9));
  auto w = linear->weight();
  torch::Tensor sign, log_abs_det;
  std::tie(sign, log_abs_det) = torch::linalg_slogdet(w);
  EXPECT_NE(sign.item<double>(), 0.0);                   // W is invertible
  EXPECT_GT(std::abs(log_abs_det.item<double>()), 0.1);  // and not volume preserving
  EXPECT_NEAR(linear->log_diag().sum().item<double>(), log_abs_det.item<double>(), 1e-12);

  auto x = torch::randn({7, 5}, torch::kFloat64);
  auto r = linear->forward_and_log_det(x);
  EXPECT_TRUE(torch::allclose(r.output, torch::matmul(x, w.t()) + linear->bias(), 1e-13, 1e-13));
  EXPECT_NEAR(r.log_det[6].item<double>(), log_abs_det.item<double>(), 1e-12);
  // The triangular solves agree with a dense solve of W x = y - b.
  auto dense = torch::linalg_solve(w, (r.output - linear->bias()).t()).t();
  EXPECT_TRUE(torch::allclose(linear->inverse(r.output), dense, 1e-12, 1e-12));
}

TEST(LULinear, RandomInitialisationIsASeededOrthogonalMatrix) {
  auto w = LULinear(LULinearOptions(6).seed(4))->weight().to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(torch::matmul(w, w.t()), torch::eye(6, torch::kFloat64), 0, 1e-6));
  EXPECT_FALSE(torch::allclose(w.abs(), torch::eye(6, torch::kFloat64), 0, 0.1));
  EXPECT_TRUE(torch::equal(LULinear(LULinearOptions(6).seed(4))->weight(), w.to(torch::kFloat)));
  EXPECT_FALSE(
      torch::allclose(LULinear(LULinearOptions(6).seed(5))->weight(), w.to(torch::kFloat)));
}

TEST(LULinear, IdentityInitialisation) {
  LULinear linear(LULinearOptions(4).identity_init(true));
  EXPECT_TRUE(torch::equal(linear->weight(), torch::eye(4)));
  auto x = torch::randn({3, 4});
  auto r = linear->forward_and_log_det(x);
  EXPECT_TRUE(torch::equal(r.output, x));
  EXPECT_TRUE(torch::equal(r.log_det, torch::zeros({3})));
  EXPECT_EQ(linear->parameters().size(), 4u);  // lower, upper, log_diag, bias
  EXPECT_EQ(LULinear(LULinearOptions(4).bias(false))->parameters().size(), 3u);
}

TEST(LULinear, RefusesBadArguments) {
  expect_error([] { LULinear(0); }, {"LULinear", "'dim'", "positive", "0"});
  expect_error(
      [] {
        LULinear(3)->inverse(torch::randn({2, 4}));
      },
      {"LULinear", "'y'", "event size 4", "event size 3"});
  expect_error(
      [] {
        LULinear(3)->forward(torch::randn({2, 3}, torch::kFloat64));
      },
      {"LULinear", "'x'", "float64", "float32"});
}

}  // namespace
}  // namespace diffeo
