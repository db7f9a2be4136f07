// The fused affine layer (one autograd node with a hand-written backward)
// against the composite LibTorch path and against finite differences, in float64.

#include "diffeo/bijectors/fused_affine.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "diffeo/core/fusion.h"
#include "diffeo/flows/flow.h"

namespace diffeo {
namespace {

flows::Flow random_flow(const std::string& name, const std::string& activation) {
  torch::manual_seed(3);
  auto flow = flows::build(name, flows::FlowOptions(3).layers(3).hidden({16, 12}).activation(
                                     activation));
  flow->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  // Non-zero output layers, so the transforms are far from the identity.
  for (auto& p : flow->parameters()) p.normal_(0, 0.4);
  return flow;
}

// Every node name reachable from `root` in the autograd graph.
std::set<std::string> node_names(const torch::Tensor& root) {
  std::set<std::string> names;
  std::vector<torch::autograd::Node*> stack{root.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  while (!stack.empty()) {
    auto* node = stack.back();
    stack.pop_back();
    if (!node || !seen.insert(node).second) continue;
    names.insert(node->name());
    for (const auto& edge : node->next_edges()) stack.push_back(edge.function.get());
  }
  return names;
}

bool uses_fused_node(const torch::Tensor& root) {
  for (const auto& name : node_names(root))
    if (name.find("FusedAffine") != std::string::npos) return true;
  return false;
}

struct Evaluation {
  torch::Tensor value;
  std::vector<torch::Tensor> gradients;  // of x (or z), then every parameter
};

// A weighted sum of `outputs(x)` and its gradients, with fusion on or off.
Evaluation evaluate(flows::Flow& flow, const torch::Tensor& input, bool fused,
                    const std::function<torch::Tensor(const torch::Tensor&)>& outputs) {
  FusedKernelsGuard guard(fused);
  auto x = input.clone().requires_grad_(true);
  auto value = outputs(x);
  EXPECT_EQ(uses_fused_node(value), fused);
  for (auto& p : flow->parameters()) p.mutable_grad() = torch::Tensor();
  value.backward();
  Evaluation e{value.detach(), {x.grad()}};
  for (auto& p : flow->parameters()) e.gradients.push_back(p.grad().clone());
  return e;
}

void expect_same(const Evaluation& fused, const Evaluation& composite) {
  EXPECT_NEAR(fused.value.item<double>(), composite.value.item<double>(),
              1e-12 * std::abs(composite.value.item<double>()));
  ASSERT_EQ(fused.gradients.size(), composite.gradients.size());
  for (size_t i = 0; i < fused.gradients.size(); ++i) {
    ASSERT_TRUE(fused.gradients[i].defined()) << "gradient " << i;
    EXPECT_TRUE(torch::allclose(fused.gradients[i], composite.gradients[i], 1e-10, 1e-12))
        << "gradient " << i << " differs by "
        << (fused.gradients[i] - composite.gradients[i]).abs().max().item<double>() << " of "
        << composite.gradients[i].abs().max().item<double>();
  }
}

class FusedAffineFlows
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FusedAffineFlows, LogProbAndGradientsMatchTheCompositePath) {
  auto [name, activation] = GetParam();
  auto flow = random_flow(name, activation);
  auto y = torch::randn({40, 3}, torch::kDouble) * 1.5;
  auto weights = torch::rand({40}, torch::kDouble);
  auto weighted_log_prob = [&](const torch::Tensor& x) { return (flow->log_prob(x) * weights).sum(); };
  expect_same(evaluate(flow, y, true, weighted_log_prob),
              evaluate(flow, y, false, weighted_log_prob));
}

TEST_P(FusedAffineFlows, SamplingDirectionMatchesTheCompositePath) {
  auto [name, activation] = GetParam();
  auto flow = random_flow(name, activation);
  auto z = torch::randn({40, 3}, torch::kDouble);
  auto weights = torch::randn({40, 3}, torch::kDouble);
  auto forward = [&](const torch::Tensor& x) {
    auto r = flow->bijector()->forward_and_log_det(x);
    return (r.output * weights).sum() + r.log_det.sum();
  };
  expect_same(evaluate(flow, z, true, forward), evaluate(flow, z, false, forward));
}

INSTANTIATE_TEST_SUITE_P(RealNVPAndMAF, FusedAffineFlows,
                         ::testing::Combine(::testing::Values("realnvp", "maf"),
                                            ::testing::Values("relu", "tanh")));

// Central differences of every input and parameter of one fused node: the
// hand-written backward, checked without the composite path.  Three layouts:
// a coupling (split columns and a context feed the conditioner), an
// autoregressive layer (x feeds it whole) and a separate conditioner input
// (MAF's sampling passes); MADE-style masks in the second.
TEST(FusedAffine, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  struct Layout {
    int64_t features, split, context, separate_input;
    bool masked;
  };
  for (const Layout& layout : {Layout{5, 2, 2, 0, false}, Layout{3, 0, 0, 0, true},
                               Layout{3, 0, 0, 3, false}}) {
    const int64_t transformed = layout.features - layout.split;
    const int64_t net_in = layout.separate_input
                               ? layout.separate_input
                               : (layout.split ? layout.split : layout.features) + layout.context;
    nn::DenseLayers layers;
    layers.activation = nn::KernelActivation::kTanh;
    const std::vector<int64_t> widths = {net_in, 7, 2 * transformed};
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      layers.weights.push_back(torch::randn({widths[l + 1], widths[l]}, opts).requires_grad_(true));
      layers.biases.push_back(torch::randn({widths[l + 1]}, opts).requires_grad_(true));
      if (layout.masked)
        layers.masks.push_back((torch::rand({widths[l + 1], widths[l]}) > 0.3).to(torch::kDouble));
    }
    ConditionedInputs inputs;
    inputs.x = torch::randn({4, layout.features}, opts).requires_grad_(true);
    inputs.split = layout.split;
    if (layout.context) inputs.context = torch::randn({4, layout.context}, opts).requires_grad_(true);
    if (layout.separate_input)
      inputs.conditioner_input = torch::randn({4, layout.separate_input}, opts).requires_grad_(true);
    std::vector<torch::Tensor> wrt = {inputs.x};
    if (inputs.context.defined()) wrt.push_back(inputs.context);
    if (inputs.conditioner_input.defined()) wrt.push_back(inputs.conditioner_input);
    for (auto& w : layers.weights) wrt.push_back(w);
    for (auto& b : layers.biases) wrt.push_back(b);
    auto out_weights = torch::randn({4, layout.features}, opts), det_weights = torch::randn({4}, opts);
    for (bool inverse : {false, true}) {
      auto loss = [&] {
        auto r = fused_affine(layers, inputs, 1.5, inverse);
        return (r.output * out_weights).sum() + (r.log_det * det_weights).sum();
      };
      auto analytic = torch::autograd::grad({loss()}, wrt);
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < wrt.size(); ++i) {
        auto flat = wrt[i].view(-1);
        auto numeric = torch::zeros_like(flat);
        for (int64_t j = 0; j < flat.numel(); ++j) {
          const double h = 1e-6, saved = flat[j].item<double>();
          flat[j] = saved + h;
          const double up = loss().item<double>();
          flat[j] = saved - h;
          const double down = loss().item<double>();
          flat[j] = saved;
          numeric[j] = (up - down) / (2 * h);
        }
        EXPECT_TRUE(torch::allclose(analytic[i].reshape(-1), numeric, 1e-6, 1e-7))
            << "layout split " << layout.split << " context " << layout.context << " separate "
            << layout.separate_input << ", input " << i << (inverse ? " (inverse)" : " (forward)")
            << ": max error " << (analytic[i].reshape(-1) - numeric).abs().max().item<double>();
      }
    }
  }
}

// A conditional Real NVP (MLP conditioner with a context) takes the fused path
// and gives the composite path's numbers, context gradient included.
TEST(FusedAffine, ConditionalCouplingMatchesTheCompositePath) {
  torch::manual_seed(8);
  auto flow = flows::build("realnvp", flows::FlowOptions(4).layers(2).hidden({8}).context_features(3));
  flow->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.normal_(0, 0.4);
  }
  auto y = torch::randn({6, 4}, torch::kDouble);
  auto context = torch::randn({6, 3}, torch::kDouble);
  std::vector<torch::Tensor> results;
  for (bool fused : {true, false}) {
    FusedKernelsGuard guard(fused);
    auto c = context.clone().requires_grad_(true);
    auto lp = flow->log_prob(y, c).sum();
    EXPECT_EQ(uses_fused_node(lp), fused);
    lp.backward();
    results.push_back(lp.detach());
    results.push_back(c.grad());
  }
  EXPECT_NEAR(results[0].item<double>(), results[2].item<double>(), 1e-12);
  EXPECT_TRUE(torch::allclose(results[1], results[3], 1e-10, 1e-12));
}

}  // namespace
}  // namespace diffeo
