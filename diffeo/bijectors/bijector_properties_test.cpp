// Every bijector of this module through the generic property harness.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/testing/bijector_harness.h"

namespace diffeo {
namespace {

using testing::BijectorCase;

torch::Tensor column(std::initializer_list<double> values) {
  return torch::tensor(std::vector<double>(values), torch::kFloat64);
}

std::vector<BijectorCase> property_cases() {
  const auto huge = column({-1e8, 1e8, 0.0});
  return {
      {"Shift", [] { return Bijector(Shift(0.7)); }, {}, {}, {huge}},
      {"Scale", [] { return Bijector(Scale(1.7)); }, {}, {}, {huge}},
      {"ScaleFixed", [] { return Bijector(Scale(0.2, /*learnable=*/false)); }, {}, {}, {huge}},
      {"ScalarAffine", [] { return Bijector(ScalarAffine(0.3, -0.4)); }, {}, {}, {huge}},
      {"Exp", [] { return Bijector(Exp()); }, {}, {}, {column({-30, 30, 0})}},
      {"Sigmoid", [] { return Bijector(Sigmoid()); }, {}, {}, {column({-15, 15, 0})}},
      {"Tanh", [] { return Bijector(Tanh()); }, {}, {}, {column({-8, 8, 0})}},
      {"Softplus", [] { return Bijector(Softplus()); }, {}, {}, {column({-30, 50, 0})}},
      {"SoftplusLearnableHinge",
       [] { return Bijector(Softplus(0.3, /*learnable=*/true)); },
       {},
       {},
       {column({-5, 40, 0})}},
      {"SoftClip",
       [] { return Bijector(SoftClip(-2, 3, 0.5)); },
       {},
       {},
       {column({-3, 4, -2, 3, 0.5})}},
      {"SoftClipLearnable",
       [] { return Bijector(SoftClip(-1, 1, 1.0, /*learnable=*/true)); },
       {},
       {},
       {column({-4, 4, 0})}},
      {"Rotation2D",
       [] { return Bijector(Rotation2D(0.7)); },
       {2},
       {},
       {torch::tensor({{1e6, -1e6}, {1e-300, 0.0}}, torch::kFloat64)}},
      {"Permute",
       [] {
         return Bijector(Permute(std::vector<int64_t>{2, 0, 3, 1}));
       },
       {4}},
      {"Reverse", [] { return Bijector(Reverse()); }, {3}},
      {"BlockShiftVector",
       [] {
         return Bijector(Block(Shift(torch::tensor({0.5, -1.0})), 1));
       },
       {2}},
      {"BlockScaleVector",
       [] {
         return Bijector(Block(Scale(torch::tensor({0.5, 2.0})), 1));
       },
       {2}},
      {"BlockSigmoid", [] { return Bijector(Block(Sigmoid(), 1)); }, {3}},
      {"BlockOfBlockExp", [] { return Bijector(Block(Block(Exp(), 1), 1)); }, {2, 3}},
      {"InverseSigmoid",
       [] { return Bijector(Inverse(Sigmoid())); },
       {},
       [](const std::vector<int64_t>& s) { return torch::sigmoid(torch::randn(s)); },
       {column({1e-6, 1 - 1e-6, 0.5})}},
      {"InverseExp",
       [] { return Bijector(Inverse(Exp())); },
       {},
       [](const std::vector<int64_t>& s) { return torch::exp(torch::randn(s)); },
       {column({1e-20, 1e20})}},
      {"InverseRotation2D", [] { return Bijector(Inverse(Rotation2D(-1.3))); }, {2}},
      {"ChainRotationShiftScale",
       [] {
         return Bijector(Chain({Rotation2D(0.3), Shift(torch::tensor({1.0, -2.0})),
                                Scale(torch::tensor({0.5, 2.0}))}));
       },
       {2}},
      {"ChainElementwise",
       [] {
         return Bijector(Chain({Tanh(), ScalarAffine(0.5, 0.3)}));
       },
       {}},
      {"ChainMixed",
       [] {
         return Bijector(Chain({Reverse(), Block(SoftClip(-3, 3), 1), Rotation2D(2.0)}));
       },
       {2}},
  };
}

class BijectorProperties : public ::testing::TestWithParam<BijectorCase> {};

TEST_P(BijectorProperties, RoundTrip) { testing::check_round_trip(GetParam()); }
TEST_P(BijectorProperties, LogDetMatchesJacobian) {
  testing::check_log_det_against_jacobian(GetParam());
}
TEST_P(BijectorProperties, LogDetSymmetry) { testing::check_log_det_symmetry(GetParam()); }
TEST_P(BijectorProperties, BatchShapes) { testing::check_batch_shapes(GetParam()); }
TEST_P(BijectorProperties, Context) { testing::check_context(GetParam()); }
TEST_P(BijectorProperties, FiniteGradients) { testing::check_finite_gradients(GetParam()); }
TEST_P(BijectorProperties, Adversarial) { testing::check_adversarial(GetParam()); }

INSTANTIATE_TEST_SUITE_P(AllBijectors, BijectorProperties, ::testing::ValuesIn(property_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace diffeo
