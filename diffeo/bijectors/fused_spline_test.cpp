// The fused spline layer (one autograd node with a hand-written backward)
// against the composite path (SplineTransform on LibTorch operators) in
// float64, at knots and at the bounds, and against finite differences.

#include "diffeo/bijectors/fused_spline.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/core/fusion.h"
#include "diffeo/nn/mlp.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/fused_checks.h"

namespace diffeo {
namespace {

using testing::Evaluation;
using testing::FusedCase;

flows::FlowOptions nsf_options(const std::string& variant, const std::string& activation) {
  return flows::FlowOptions(3).layers(3).hidden({16, 12}).bins(5).variant(variant).activation(
      activation);
}

// Points over and beyond the flows' [-6, 6].  Not exactly at +-6: a layer
// maps those to +-6 give or take the last bit, and the next layer's log-det
// has a kink there, so the two paths could take different sides of it
// (MatchesTheCompositeNodeAtKnotsAndBounds checks the bounds on one node).
torch::Tensor spread_points() {
  auto x = torch::randn({40, 3}, torch::kDouble) * 4;
  x[0] = torch::tensor({6.5, -9.0, 0.0}, torch::kDouble);
  return x;
}

class FusedSplineFlows
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FusedSplineFlows, LogProbAndGradientsMatchTheCompositePath) {
  auto [variant, activation] = GetParam();
  auto flow = testing::random_flow("nsf", nsf_options(variant, activation), 0.5);
  testing::expect_log_prob_matches_composite(flow, spread_points(), "FusedSpline");
}

TEST_P(FusedSplineFlows, SamplingDirectionMatchesTheCompositePath) {
  auto [variant, activation] = GetParam();
  auto flow = testing::random_flow("nsf", nsf_options(variant, activation), 0.5);
  testing::expect_sampling_direction_matches_composite(flow, spread_points(), "FusedSpline");
}

INSTANTIATE_TEST_SUITE_P(CouplingAndAutoregressive, FusedSplineFlows,
                         ::testing::Combine(::testing::Values("coupling", "autoregressive"),
                                            ::testing::Values("relu", "tanh")));

TEST(FusedSpline, Float32LogProbMatchesTheCompositePath) {
  for (std::string variant : {"coupling", "autoregressive"}) {
    auto flow = testing::random_flow("nsf", nsf_options(variant, "relu"), 0.5);
    flow->to(torch::kFloat);
    auto y = spread_points().to(torch::kFloat);
    torch::NoGradGuard no_grad;
    auto fused = flow->log_prob(y);
    FusedKernelsGuard composite(false);
    EXPECT_TRUE(torch::allclose(fused, flow->log_prob(y), 1e-4, 1e-4))
        << variant << ": max difference " << (fused - flow->log_prob(y)).abs().max().item<float>();
  }
}

spline::SplineOptions bounded_by(double bound) {
  spline::SplineOptions options;
  options.bound = bound;
  return options;
}

// The fused node's result, or the same maths on LibTorch operators.
Result node_result(const FusedCase& c, const spline::SplineOptions& options, bool inverse,
                   bool fused) {
  if (fused) return fused_spline(c.layers, c.inputs, options, inverse);
  const auto& x = c.inputs.x;
  const int64_t split = c.inputs.split, F = x.size(1) - split;
  auto theta = testing::composite_conditioner(c).view({x.size(0), F, -1});
  auto s = spline::rational_quadratic(x.narrow(1, split, F), theta, inverse, options);
  return {torch::cat({x.narrow(1, 0, split), s.output}, 1), s.log_det.sum(-1)};
}

torch::Tensor node_loss(const FusedCase& c, const spline::SplineOptions& options, bool inverse,
                        bool fused, const torch::Tensor& out_weights,
                        const torch::Tensor& det_weights) {
  auto r = node_result(c, options, inverse, fused);
  return (r.output * out_weights).sum() + (r.log_det * det_weights).sum();
}

// The knots (x for the forward, y for the inverse) of every transformed
// element of `c`, [N, F, K + 1].
torch::Tensor input_knots(const FusedCase& c, const spline::SplineOptions& options,
                          bool inverse) {
  torch::NoGradGuard no_grad;
  const auto& x = c.inputs.x;
  auto theta = testing::composite_conditioner(c).view({x.size(0), x.size(1) - c.inputs.split, -1});
  auto k = spline::knots(theta, options);
  return inverse ? k.y : k.x;
}

// Inputs at every knot, -bound and bound included, beyond the bounds and in
// between, in a coupling layout (so that moving the transformed columns
// leaves the knots where they are).  Exactly at the knots the outputs and
// log-dets are the composite path's (to 1e-10: a knot that differs in the
// last bit puts the input in the next bin, at a relative position off by
// that bit over the bin's width).  The gradients are compared exactly at
// the bounds but a hair right of the interior knots: at an interior knot the
// log-det's derivative jumps, and the two paths compute the knots with
// different softmax code, so which side each one takes there can differ in
// the last bit.
TEST(FusedSpline, MatchesTheCompositeNodeAtKnotsAndBounds) {
  const int64_t bins = 5, rows = 8;
  const auto options = bounded_by(2);
  for (bool inverse : {false, true}) {
    SCOPED_TRACE(inverse ? "inverse" : "forward");
    torch::manual_seed(11);
    auto c = testing::random_fused_case({5, 2, 2, 0, false}, 3 * bins - 1, rows);
    auto knots = input_knots(c, options, inverse);
    auto place = [&](double interior_offset) {
      torch::NoGradGuard no_grad;
      auto transformed = c.inputs.x.narrow(1, 2, 3);
      for (int64_t r = 0; r <= bins; ++r) {
        for (int64_t f = 0; f < 3; ++f) {
          const int64_t k = (r + f) % (bins + 1);
          transformed[r][f] = knots[r][f][k] + (k > 0 && k < bins ? interior_offset : 0.0);
        }
      }
      transformed[bins + 1] = torch::tensor({2.5, -2.5, 0.3}, torch::kDouble);
    };
    place(0);
    {
      torch::NoGradGuard no_grad;
      auto fused = node_result(c, options, inverse, true);
      auto composite = node_result(c, options, inverse, false);
      EXPECT_TRUE(torch::allclose(fused.output, composite.output, 1e-10, 1e-12));
      EXPECT_TRUE(torch::allclose(fused.log_det, composite.log_det, 1e-10, 1e-12));
    }
    place(1e-9);
    auto out_weights = torch::randn({rows, 5}, torch::kDouble);
    auto det_weights = torch::randn({rows}, torch::kDouble);
    auto evaluation = [&](bool fused) {
      auto loss = node_loss(c, options, inverse, fused, out_weights, det_weights);
      EXPECT_EQ(testing::uses_node(loss, "FusedSpline"), fused);
      auto gradients = torch::autograd::grad({loss}, c.wrt);
      return Evaluation{loss.detach(), gradients};
    };
    testing::expect_same(evaluation(true), evaluation(false));
  }
}

// Central differences of every input and parameter of one fused node, in the
// layouts of testing::fused_layouts(), forward and inverse.  The inputs lie
// away from the knots (asserted), where the spline's parameter gradients
// change from one bin's formula to the next.
TEST(FusedSpline, GradientsMatchFiniteDifferences) {
  const int64_t bins = 4, rows = 4;
  const auto options = bounded_by(2);
  torch::manual_seed(5);
  for (const auto& layout : testing::fused_layouts()) {
    auto c = testing::random_fused_case(layout, 3 * bins - 1, rows, 1.2);
    auto out_weights = torch::randn({rows, layout.features}, torch::kDouble);
    auto det_weights = torch::randn({rows}, torch::kDouble);
    for (bool inverse : {false, true}) {
      const auto what = testing::describe(layout) + (inverse ? " (inverse)" : " (forward)");
      auto knots = input_knots(c, options, inverse);
      auto transformed = c.inputs.x.detach().narrow(1, layout.split, knots.size(1));
      ASSERT_GT((transformed.unsqueeze(-1) - knots).abs().min().item<double>(), 1e-4) << what;
      testing::expect_gradients_match_finite_differences(
          [&] { return node_loss(c, options, inverse, true, out_weights, det_weights); }, c.wrt,
          what);
    }
  }
}

// A conditioner of the wrong width: fused_spline says so, and a coupling
// leaves it to the composite path, whose message names the conditioner.
TEST(FusedSpline, RefusesAConditionerOfTheWrongWidth) {
  torch::manual_seed(2);
  auto c = testing::random_fused_case({5, 2, 0, 0, false}, 3, 2);
  testing::expect_error([&] { fused_spline(c.layers, c.inputs, {}, false); },
                        {"fused_spline", "9 values per row", "3 transformed features"});
  auto mlp = nn::MLP(nn::MLPOptions(2, 3 * 13).hidden({8}));
  SplitCoupling coupling(5, 2, torch::nn::AnyModule(mlp), spline_transform(5));
  testing::expect_error([&] { coupling->forward(torch::randn({4, 5})); },
                        {"SplitCoupling", "conditioner"});
}

TEST(FusedSpline, CanFuseOnlySplineTransformsOfAtMostTheMaximumBins) {
  auto layers = nn::MLP(nn::MLPOptions(2, 2).hidden({4}))->dense_layers();
  auto x = torch::randn({3, 4});
  EXPECT_TRUE(can_fuse_spline(spline_transform(8), layers, x));
  EXPECT_TRUE(can_fuse_spline(spline_transform(kFusedSplineMaxBins), layers, x));
  EXPECT_FALSE(can_fuse_spline(spline_transform(kFusedSplineMaxBins + 1), layers, x));
  EXPECT_FALSE(can_fuse_spline(affine_transform(), layers, x));
  EXPECT_FALSE(can_fuse_spline(spline_transform(8), layers, x.to(torch::kDouble)));
  FusedKernelsGuard off(false);
  EXPECT_FALSE(can_fuse_spline(spline_transform(8), layers, x));
}

}  // namespace
}  // namespace diffeo
