// The tensor helpers with fast paths: all_finite's plain scan and sum_terms'
// one-node sum, each against the ATen composite it replaces, values and
// gradients (first and second order) in float64.

#include <gtest/gtest.h>

#include <limits>

#include "diffeo/core/tensor_ops.h"

namespace diffeo {
namespace {

TEST(AllFinite, FindsEveryKindOfNonFiniteValue) {
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto x = torch::randn({37, 3}, dtype);
    EXPECT_TRUE(all_finite(x));
    EXPECT_TRUE(all_finite(torch::empty({0, 3}, dtype)));
    for (double bad : {std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
      auto y = x.clone();
      y[36][2] = bad;  // the last value: the scan must read them all
      EXPECT_FALSE(all_finite(y)) << bad;
      EXPECT_FALSE(all_finite(y.t())) << "non-contiguous, ATen's path: " << bad;
    }
    // Huge but finite values must not overflow into a false alarm.
    EXPECT_TRUE(all_finite(torch::full({4}, std::numeric_limits<float>::max(), dtype)));
  }
}

// The terms with gradients of the one-node sum and of the fold 0 + t0 + t1 + ...
struct SumGradients {
  torch::Tensor sum;
  std::vector<torch::Tensor> grads;
};

SumGradients sum_and_grads(const std::vector<torch::Tensor>& leaves, bool one_node,
                           const torch::Tensor& weights) {
  std::vector<torch::Tensor> terms;
  for (const auto& leaf : leaves) terms.push_back(leaf.sin());  // not leaves themselves
  auto sum = one_node ? sum_terms(terms, terms[0].sizes(), terms[0].options())
                      : torch::zeros_like(terms[0]);
  if (!one_node)
    for (const auto& t : terms) sum = sum + t;
  auto loss = (sum * sum * weights).sum();
  auto grads = torch::autograd::grad({loss}, leaves, {}, /*retain_graph=*/true,
                                     /*create_graph=*/true);
  return {sum, grads};
}

TEST(SumTerms, OneNodeEqualsTheFoldWithGradientsOfBothOrders) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> leaves;
  for (int i = 0; i < 4; ++i) leaves.push_back(torch::randn({6}, torch::kFloat64).requires_grad_());
  const auto weights = torch::rand({6}, torch::kFloat64);
  const auto fast = sum_and_grads(leaves, true, weights);
  const auto fold = sum_and_grads(leaves, false, weights);
  ASSERT_NE(fast.sum.grad_fn(), nullptr);
  EXPECT_NE(fast.sum.grad_fn()->name().find("SumOfTerms"), std::string::npos)
      << fast.sum.grad_fn()->name();
  EXPECT_TRUE(torch::equal(fast.sum, fold.sum));
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_TRUE(torch::allclose(fast.grads[i], fold.grads[i], 1e-14, 1e-14)) << i;
    // Second order through the gradient (create_graph): d/dx of sum(grad).
    auto h_fast = torch::autograd::grad({fast.grads[i].sum()}, {leaves[i]}, {}, true)[0];
    auto h_fold = torch::autograd::grad({fold.grads[i].sum()}, {leaves[i]}, {}, true)[0];
    EXPECT_TRUE(torch::allclose(h_fast, h_fold, 1e-14, 1e-14)) << i;
  }
}

TEST(SumTerms, BroadcastsLikeAdditionWhereOneNodeDoesNotApply) {
  // A term of another shape (a constant log-det) and a float32 term: the fold.
  auto a = torch::randn({5}, torch::kFloat64), b = torch::tensor(0.5, torch::kFloat64);
  auto sum = sum_terms({a, b}, {5}, a.options());
  EXPECT_TRUE(torch::allclose(sum, a + 0.5, 0, 0));
  auto c = torch::randn({5});
  EXPECT_EQ(sum_terms({a, c}, {5}, a.options()).scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(sum_terms({}, {3}, a.options()), torch::zeros({3}, torch::kFloat64)));
}

}  // namespace
}  // namespace diffeo
