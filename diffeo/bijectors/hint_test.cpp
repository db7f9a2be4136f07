// HINT's bijectors: HierarchicalCoupling and Householder through the property
// harness (random, non-identity conditioners; with and without context), the
// lower-triangular Jacobian, the recursion's shape, the soft clamp,
// orthogonality and argument errors.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <tuple>

#include "diffeo/bijectors/hierarchical_coupling.h"
#include "diffeo/bijectors/householder.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::BijectorCase;
using testing::expect_error;

HierarchicalCouplingOptions random_options(int64_t dim, int64_t context) {
  return HierarchicalCouplingOptions(dim)
      .hidden({16, 16})
      .min_hidden(8)
      .activation("tanh")
      .context_features(context)
      .identity_init(false);
}

// Huge magnitudes of both signs: the soft clamp keeps every scale finite.
torch::Tensor extreme_row(int64_t dim) {
  auto row = torch::empty({1, dim}, torch::kFloat64);
  for (int64_t i = 0; i < dim; ++i) row[0][i] = (i % 2 ? -1.0 : 1.0) * std::pow(10.0, 1 + i % 3);
  return row;
}

std::vector<BijectorCase> hint_cases() {
  std::vector<BijectorCase> cases;
  for (int64_t context : {0, 3}) {
    const std::string suffix = context ? "WithContext" : "";
    for (int64_t dim : {1, 2, 3, 5, 8})
      cases.push_back({"HierarchicalCoupling" + std::to_string(dim) + suffix,
                       [dim, context] {
                         torch::manual_seed(30 + dim);
                         return Bijector(HierarchicalCoupling(random_options(dim, context)));
                       },
                       {dim},
                       {},
                       {extreme_row(dim)},
                       context});
    // min_split 1 recurses down to 1-D leaves (constant or context-only affine maps).
    cases.push_back({"HierarchicalCouplingMinSplit1" + suffix,
                     [context] {
                       torch::manual_seed(40);
                       return Bijector(
                           HierarchicalCoupling(random_options(6, context).min_split(1)));
                     },
                     {6},
                     {},
                     {extreme_row(6)},
                     context});
  }
  for (int64_t dim : {1, 3, 6})
    cases.push_back({"Householder" + std::to_string(dim),
                     [dim] { return Bijector(Householder(HouseholderOptions(dim).seed(dim))); },
                     {dim},
                     {},
                     {extreme_row(dim)}});
  cases.push_back({"HouseholderTwoReflectionsFixed",
                   [] {
                     return Bijector(Householder(
                         HouseholderOptions(4).reflections(2).seed(9).learnable(false)));
                   },
                   {4}});
  return cases;
}

class HINTBijectorProperties : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(HINTBijectorProperties, All) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(HINT, HINTBijectorProperties, ::testing::ValuesIn(hint_cases()),
                         [](const auto& info) { return info.param.name; });

// d map(x) / dx for one vector x [d], [d, d]: row i holds the gradient of output i.
torch::Tensor jacobian(const std::function<torch::Tensor(const torch::Tensor&)>& map,
                       const torch::Tensor& x) {
  auto input = x.detach().requires_grad_(true);
  auto output = map(input);
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < output.size(0); ++i)
    rows.push_back(torch::autograd::grad({output[i]}, {input}, {}, /*retain_graph=*/true)[0]);
  return torch::stack(rows);
}

TEST(HierarchicalCoupling, JacobianIsLowerTriangularInBothDirections) {
  for (int64_t dim : {5, 8}) {
    for (int64_t context_dim : {0, 3}) {
      torch::manual_seed(50 + dim);
      auto coupling = HierarchicalCoupling(random_options(dim, context_dim));
      coupling->to(torch::kFloat64);
      auto x = torch::randn({dim}, torch::kFloat64);
      auto context = context_dim ? torch::randn({context_dim}, torch::kFloat64) : torch::Tensor();
      auto y = coupling->forward(x, context).detach();
      const auto forward =
          jacobian([&](const torch::Tensor& t) { return coupling->forward(t, context); }, x);
      const auto inverse =
          jacobian([&](const torch::Tensor& t) { return coupling->inverse(t, context); }, y);
      for (const auto& [name, j, log_det] :
           {std::make_tuple("forward", forward, coupling->forward_and_log_det(x, context).log_det),
            std::make_tuple("inverse", inverse,
                            coupling->inverse_and_log_det(y, context).log_det)}) {
        SCOPED_TRACE(std::string(name) + " d=" + std::to_string(dim) +
                     " context=" + std::to_string(context_dim));
        // Exactly zero above the diagonal: output i never reads input j > i.
        EXPECT_EQ(j.triu(1).abs().max().item<double>(), 0.0);
        // ...and not merely diagonal: the couplings do mix coordinates.
        EXPECT_GT(j.tril(-1).abs().max().item<double>(), 1e-3);
        // A triangular determinant is the product of the diagonal.
        EXPECT_NEAR(j.diagonal().abs().log().sum().item<double>(), log_det.item<double>(), 1e-10);
      }
    }
  }
}

TEST(HierarchicalCoupling, RecursesWithHalvedConditioners) {
  auto coupling = HierarchicalCoupling(HierarchicalCouplingOptions(16).hidden({64}));
  EXPECT_EQ(coupling->depth(), 4);  // 16 -> 8 -> 4 -> 2 (leaves of 2 or 3 below 2 * min_split)
  auto params = coupling->named_parameters();
  EXPECT_EQ(params["conditioner.linear0.weight"].size(0), 64);
  EXPECT_EQ(params["upper.conditioner.linear0.weight"].size(0), 32);
  EXPECT_EQ(params["lower.upper.conditioner.linear0.weight"].size(0), 16);
  EXPECT_EQ(params["lower.lower.upper.conditioner.linear0.weight"].size(0), 16);  // min_hidden
  // The top coupling maps the upper 8 coordinates to (shift, log-scale) of the lower 8.
  EXPECT_EQ(params["conditioner.linear0.weight"].size(1), 8);
  EXPECT_EQ(params["conditioner.linear1.weight"].size(0), 16);
  EXPECT_TRUE(params.contains("lower.lower.lower.conditioner.linear0.weight"));
  EXPECT_FALSE(params.contains("lower.lower.lower.lower.conditioner.linear0.weight"));

  EXPECT_EQ(HierarchicalCoupling(HierarchicalCouplingOptions(3))->depth(), 1);
  EXPECT_EQ(HierarchicalCoupling(HierarchicalCouplingOptions(5))->depth(), 2);
  EXPECT_EQ(HierarchicalCoupling(HierarchicalCouplingOptions(5).min_split(1))->depth(),
            4);  // 5 -> 3 -> 2 -> 1
  // An unconditional 1-D leaf is a learned constant affine map.
  auto one = HierarchicalCoupling(HierarchicalCouplingOptions(1));
  ASSERT_EQ(one->parameters().size(), 1u);
  EXPECT_TRUE(one->named_parameters().contains("shift_log_scale"));
}

TEST(HierarchicalCoupling, StartsAtTheIdentity) {
  for (int64_t dim : {1, 2, 7}) {
    auto coupling = HierarchicalCoupling(HierarchicalCouplingOptions(dim).context_features(2));
    auto x = torch::randn({4, dim});
    auto r = coupling->forward_and_log_det(x, torch::randn({4, 2}));
    EXPECT_TRUE(torch::equal(r.output, x)) << dim;
    EXPECT_EQ(r.log_det.abs().max().item<double>(), 0.0) << dim;
  }
}

// A 2-D leaf whose conditioner outputs the constants (t, r): the lower
// coordinate's density-direction map is u * exp(s) + t, s = c 0.636 atan(r).
TEST(HierarchicalCoupling, SoftClampsTheLogScale) {
  const double c = 2.0;
  for (double r : {1.0, -3.0, 1e6}) {
    auto coupling = HierarchicalCoupling(HierarchicalCouplingOptions(2).hidden({8}));
    coupling->to(torch::kFloat64);
    {
      torch::NoGradGuard no_grad;
      coupling->named_parameters()["conditioner.linear1.bias"].copy_(torch::tensor({0.5, r}));
    }
    const double s = c * 0.636 * std::atan(r);
    auto u = torch::tensor({{0.3, -1.2}}, torch::kFloat64);
    auto v = coupling->inverse_and_log_det(u);
    EXPECT_DOUBLE_EQ(v.output[0][0].item<double>(), 0.3);
    EXPECT_NEAR(v.output[0][1].item<double>(), -1.2 * std::exp(s) + 0.5, 1e-12);
    EXPECT_NEAR(v.log_det[0].item<double>(), s, 1e-12);
    EXPECT_LT(std::abs(v.log_det[0].item<double>()), c);
  }
}

TEST(HierarchicalCoupling, RefusesBadArguments) {
  expect_error([] { HierarchicalCoupling(HierarchicalCouplingOptions(0)); },
               {"HierarchicalCoupling", "'dim'", "positive", "0"});
  expect_error([] { HierarchicalCoupling(HierarchicalCouplingOptions(4).min_split(0)); },
               {"HierarchicalCoupling", "'min_split'", "0"});
  expect_error([] { HierarchicalCoupling(HierarchicalCouplingOptions(4).log_scale_bound(-1)); },
               {"HierarchicalCoupling", "'log_scale_bound'", "-1"});
  expect_error([] { HierarchicalCoupling(HierarchicalCouplingOptions(4).activation("step")); },
               {"HierarchicalCoupling", "'activation'", "step", "relu"});
  expect_error([] { HierarchicalCoupling(HierarchicalCouplingOptions(4).context_features(-2)); },
               {"HierarchicalCoupling", "'context_features'", "-2"});
  auto coupling = HierarchicalCoupling(HierarchicalCouplingOptions(4).context_features(3));
  expect_error(
      [&] {
        coupling->forward(torch::randn({2, 3}), torch::randn({2, 3}));
      },
      {"HierarchicalCoupling", "'x'", "3", "4"});
  expect_error(
      [&] {
        coupling->forward(torch::randn({2, 4}));
      },
      {"HierarchicalCoupling", "context of width 3"});
  expect_error(
      [&] {
        coupling->inverse(torch::randn({2, 4}), torch::randn({2, 5}));
      },
      {"HierarchicalCoupling", "'context'", "[2, 5]", "3"});
}

TEST(Householder, IsOrthogonalWithZeroLogDet) {
  for (int64_t dim : {1, 2, 5}) {
    auto h = Householder(HouseholderOptions(dim).seed(3));
    h->to(torch::kFloat64);
    auto q = h->matrix();
    EXPECT_EQ(h->vectors().sizes(), torch::IntArrayRef({dim, dim}));  // default: dim reflections
    EXPECT_LT(
        (torch::matmul(q, q.t()) - torch::eye(dim, torch::kFloat64)).abs().max().item<double>(),
        1e-14);
    // dim reflections: det Q = (-1)^dim.
    EXPECT_NEAR(torch::det(q).item<double>(), dim % 2 ? -1.0 : 1.0, 1e-12);
    auto x = torch::randn({6, dim}, torch::kFloat64);
    auto r = h->forward_and_log_det(x);
    EXPECT_TRUE(torch::allclose(r.output, torch::matmul(x, q.t()), 0, 1e-14));
    EXPECT_EQ(r.log_det.abs().max().item<double>(), 0.0);
    EXPECT_TRUE(torch::allclose(h->inverse(r.output), x, 0, 1e-13));
    // The forward map's Jacobian is Q itself.
    EXPECT_TRUE(torch::allclose(
        jacobian([&](const torch::Tensor& t) { return h->forward(t); }, x[0]), q, 0, 1e-14));
  }
}

TEST(Householder, OneReflectionIsTheFormula) {
  auto h = Householder(HouseholderOptions(4).reflections(1).seed(11));
  h->to(torch::kFloat64);
  auto v = h->vectors()[0].detach();
  auto expected = torch::eye(4, torch::kFloat64) - 2 * torch::outer(v, v) / v.dot(v);
  EXPECT_TRUE(torch::allclose(h->matrix(), expected, 0, 1e-15));
  EXPECT_TRUE(torch::allclose(torch::matmul(h->matrix(), v), -v, 0, 1e-14));  // v is reflected
}

TEST(Householder, SeedsAndLearnability) {
  auto a = Householder(HouseholderOptions(3).seed(5));
  auto b = Householder(HouseholderOptions(3).seed(5));
  auto c = Householder(HouseholderOptions(3).seed(6));
  EXPECT_TRUE(torch::equal(a->matrix(), b->matrix()));
  EXPECT_FALSE(torch::allclose(a->matrix(), c->matrix()));
  ASSERT_EQ(a->parameters().size(), 1u);
  auto fixed = Householder(HouseholderOptions(3).seed(5).learnable(false));
  EXPECT_TRUE(fixed->parameters().empty());
  EXPECT_TRUE(torch::equal(fixed->matrix(), a->matrix()));
  // Gradients reach the vectors through Q.
  a->forward(torch::randn({4, 3})).pow(2).sum().backward();
  EXPECT_TRUE(a->vectors().grad().defined());
}

TEST(Householder, RefusesBadArguments) {
  expect_error([] { Householder(HouseholderOptions(0)); }, {"Householder", "'dim'", "0"});
  expect_error([] { Householder(HouseholderOptions(3).reflections(-1)); },
               {"Householder", "'reflections'", "-1"});
  expect_error(
      [] {
        Householder(HouseholderOptions(3))->inverse(torch::randn({2, 4}));
      },
      {"Householder", "'y'", "4", "3"});
}

}  // namespace
}  // namespace diffeo
