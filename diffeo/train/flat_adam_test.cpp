#include "diffeo/train/flat_adam.h"

#include <gtest/gtest.h>

#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

torch::nn::Sequential small_net() {
  torch::manual_seed(11);
  torch::nn::Sequential net(torch::nn::Linear(3, 8), torch::nn::Tanh(), torch::nn::Linear(8, 2));
  net->to(torch::kDouble);
  return net;
}

torch::Tensor loss_of(torch::nn::Sequential& net, int step) {
  auto x = torch::linspace(-1, 1, 30, torch::kDouble).reshape({10, 3}) * (1 + 0.1 * step);
  return net->forward(x).pow(2).sum() + net->forward(x).sin().sum();
}

TEST(FlatAdam, FollowsTorchAdamStepForStep) {
  auto ours = small_net(), theirs = small_net();
  FlatAdam flat(ours->parameters(), FlatAdamOptions().learning_rate(0.01));
  torch::optim::Adam adam(theirs->parameters(), torch::optim::AdamOptions(0.01));
  for (int step = 0; step < 25; ++step) {
    flat.zero_grad();
    loss_of(ours, step).backward();
    flat.step();
    adam.zero_grad();
    loss_of(theirs, step).backward();
    adam.step();
  }
  EXPECT_EQ(flat.steps(), 25);
  auto a = ours->parameters(), b = theirs->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-12, 1e-13)) << "parameter " << i;
    EXPECT_GT((a[i] - small_net()->parameters()[i]).abs().max().item<double>(), 1e-3);
  }
}

// The one-pass float loop against torch::optim::Adam's operators over a buffer
// long enough to be split between threads: equal to float rounding, and the
// same bits on one thread as on two.
TEST(FlatAdam, FloatStepsFollowTorchAdamOnAnyThreadCount) {
  const int64_t n = 200000;
  auto start = torch::randn({n}, torch::TensorOptions().dtype(torch::kFloat)) * 0.1;
  auto gradient_at = [&](const torch::Tensor& w, int step) {
    return torch::sin(w * (3 + step)) + 0.01 * step;
  };
  auto run_flat = [&](int threads) {
    const int saved = torch::get_num_threads();
    torch::set_num_threads(threads);
    auto w = start.clone().requires_grad_(true);
    FlatAdam flat({w}, FlatAdamOptions().learning_rate(0.01));
    for (int step = 0; step < 20; ++step) {
      flat.zero_grad();
      w.mutable_grad().add_(gradient_at(w.detach(), step));
      flat.step();
    }
    torch::set_num_threads(saved);
    return w.detach().clone();
  };
  auto theirs = start.clone().requires_grad_(true);
  torch::optim::Adam adam({theirs}, torch::optim::AdamOptions(0.01));
  for (int step = 0; step < 20; ++step) {
    adam.zero_grad();
    theirs.mutable_grad() = gradient_at(theirs.detach(), step);
    adam.step();
  }
  auto one = run_flat(1), two = run_flat(2);
  EXPECT_TRUE(torch::equal(one, two));
  // 20 steps of size 0.01 move each weight by up to 0.2; rounding stays near 1e-7 of that.
  EXPECT_LT((one - theirs.detach()).abs().max().item<double>(), 1e-6);
  EXPECT_GT((one - start).abs().max().item<double>(), 0.1);
}

TEST(FlatAdam, ParametersAndGradientsAreViewsOfOneBuffer) {
  auto net = small_net();
  auto before = net->parameters();
  std::vector<torch::Tensor> values;
  for (auto& p : before) values.push_back(p.detach().clone());
  FlatAdam flat(net->parameters());
  ASSERT_EQ(flat.groups().size(), 1u);
  const auto& group = flat.groups()[0];
  EXPECT_EQ(group.parameters.numel(), 3 * 8 + 8 + 8 * 2 + 2);
  // Values are kept, and the module's parameters now live in the buffer.
  for (size_t i = 0; i < values.size(); ++i) EXPECT_TRUE(torch::equal(before[i], values[i]));
  {
    torch::NoGradGuard no_grad;
    group.parameters.add_(1);
  }
  EXPECT_TRUE(torch::allclose(net->parameters()[0], values[0] + 1));
  // Two backward passes accumulate into the flat gradient buffer.
  loss_of(net, 0).backward();
  auto once = group.gradients.clone();
  loss_of(net, 0).backward();
  EXPECT_TRUE(torch::allclose(group.gradients, 2 * once));
  EXPECT_GT(once.abs().sum().item<double>(), 0);
  flat.zero_grad();
  EXPECT_EQ(group.gradients.abs().sum().item<double>(), 0);
}

TEST(FlatAdam, ClipsLikeTorchAndSkipsFrozenAndRepeatedParameters) {
  auto ours = small_net(), theirs = small_net();
  auto frozen = ours->parameters()[3];  // the last bias
  frozen.requires_grad_(false);
  theirs->parameters()[3].requires_grad_(false);
  auto parameters = ours->parameters();
  parameters.push_back(parameters[0]);  // listed twice: optimised once
  FlatAdam flat(parameters);
  EXPECT_EQ(flat.groups()[0].parameters.numel(), 3 * 8 + 8 + 8 * 2);
  loss_of(ours, 1).backward();
  loss_of(theirs, 1).backward();
  std::vector<torch::Tensor> trainable;
  for (auto& p : theirs->parameters())
    if (p.requires_grad()) trainable.push_back(p);
  const double expected = torch::nn::utils::clip_grad_norm_(trainable, 0.5);
  EXPECT_NEAR(flat.clip_grad_norm(0.5), expected, 1e-12 * expected);
  EXPECT_NEAR(flat.groups()[0].gradients.norm().item<double>(), 0.5, 1e-6);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(ours->parameters()[i].grad(), theirs->parameters()[i].grad()));
  auto frozen_before = frozen.clone();
  flat.step();
  EXPECT_TRUE(torch::equal(frozen, frozen_before));
}

// With the gradients handed over (set to none, then autograd's own tensors),
// the steps equal those with the gradients accumulated into the buffer: the
// same bits without clipping, rounding with it (the norm is summed per tensor).
TEST(FlatAdam, HandedOverGradientsTakeTheSameSteps) {
  for (const double clip : {0.0, 0.5}) {
    auto flat_net = small_net(), handed_net = small_net();
    // The last bias unused by the loss: no gradient at all, which counts as zero.
    auto loss = [](torch::nn::Sequential& net, int step) {
      auto x = torch::linspace(-1, 1, 30, torch::kDouble).reshape({10, 3}) * (1 + 0.1 * step);
      auto hidden = torch::tanh(net[0]->as<torch::nn::Linear>()->forward(x));
      return torch::matmul(hidden, net[2]->as<torch::nn::Linear>()->weight.t()).pow(2).sum();
    };
    FlatAdam flat(flat_net->parameters(), FlatAdamOptions().learning_rate(0.01));
    FlatAdam handed(handed_net->parameters(),
                    FlatAdamOptions().learning_rate(0.01).hand_over_gradients_from(0));
    const auto& buffer = handed.groups()[0].gradients;
    for (int step = 0; step < 25; ++step) {
      flat.zero_grad();
      handed.zero_grad();
      for (const auto& p : handed_net->parameters()) ASSERT_FALSE(p.grad().defined());
      loss(flat_net, step).backward();
      loss(handed_net, step).backward();
      const auto w = handed_net->parameters()[0];
      ASSERT_TRUE(w.grad().defined());
      const auto* at = static_cast<const char*>(w.grad().data_ptr());
      const auto* base = static_cast<const char*>(buffer.data_ptr());
      EXPECT_TRUE(at < base || at >= base + buffer.nbytes()) << "not handed over";
      EXPECT_FALSE(handed_net->parameters()[3].grad().defined());
      const double norm_flat = flat.clip_grad_norm(clip), norm_handed = handed.clip_grad_norm(clip);
      EXPECT_NEAR(norm_handed, norm_flat, 1e-13 * norm_flat);
      flat.step();
      handed.step();
    }
    auto a = flat_net->parameters(), b = handed_net->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      if (clip == 0)
        EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
      else
        EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-12, 1e-13)) << "parameter " << i;
    }
    EXPECT_GT((a[0] - small_net()->parameters()[0]).abs().max().item<double>(), 1e-3);
    EXPECT_TRUE(torch::equal(a[3], small_net()->parameters()[3])) << "zero gradients: no step";
  }
}

// Groups below the threshold keep their gradients in the buffer, and a
// gradient set to none by hand becomes the buffer's view again.
TEST(FlatAdam, SmallGroupsKeepTheirGradientsInTheBuffer) {
  auto net = small_net();
  FlatAdam flat(net->parameters());  // 58 parameters: far below the default threshold
  const auto& buffer = flat.groups()[0].gradients;
  auto w = net->parameters()[0];
  w.mutable_grad().reset();
  loss_of(net, 0).backward();  // autograd leaves its own tensor for w
  EXPECT_NE(w.grad().data_ptr(), buffer.data_ptr());
  flat.zero_grad();
  EXPECT_EQ(w.grad().data_ptr(), buffer.data_ptr());
  loss_of(net, 0).backward();
  EXPECT_TRUE(torch::equal(w.grad().reshape({-1}), buffer.narrow(0, 0, w.numel())));
}

TEST(FlatAdam, RefusesBadInput) {
  auto net = small_net();
  for (auto& p : net->parameters()) p.requires_grad_(false);
  testing::expect_error([&] { FlatAdam flat(net->parameters()); }, {"no parameter"});
  testing::expect_error([&] { FlatAdam flat({}, FlatAdamOptions().learning_rate(-1)); },
                        {"learning_rate"});
  testing::expect_error(
      [&] { FlatAdam flat({}, FlatAdamOptions().hand_over_gradients_from(-1)); },
      {"hand_over_gradients_from", ">= 0", "-1"});
}

}  // namespace
}  // namespace diffeo::train
