#include "diffeo/testing/fused_checks.h"

#include <gtest/gtest.h>

#include <set>

#include "diffeo/core/fusion.h"

namespace diffeo::testing {

flows::Flow random_flow(const std::string& name, const flows::FlowOptions& options, double stddev,
                        uint64_t seed) {
  torch::manual_seed(seed);
  auto flow = flows::build(name, options);
  flow->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.normal_(0, stddev);
  return flow;
}

bool uses_node(const torch::Tensor& root, const std::string& node) {
  std::vector<torch::autograd::Node*> stack{root.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  while (!stack.empty()) {
    auto* current = stack.back();
    stack.pop_back();
    if (!current || !seen.insert(current).second) continue;
    if (current->name().find(node) != std::string::npos) return true;
    for (const auto& edge : current->next_edges()) stack.push_back(edge.function.get());
  }
  return false;
}

Evaluation evaluate(flows::Flow& flow, const torch::Tensor& input, bool fused,
                    const std::string& node,
                    const std::function<torch::Tensor(const torch::Tensor&)>& scalar) {
  FusedKernelsGuard guard(fused);
  auto x = input.clone().requires_grad_(true);
  auto value = scalar(x);
  EXPECT_EQ(uses_node(value, node), fused) << node;
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

void expect_log_prob_matches_composite(flows::Flow& flow, const torch::Tensor& y,
                                       const std::string& node) {
  auto weights = torch::rand({y.size(0)}, y.options());
  auto weighted_log_prob = [&](const torch::Tensor& x) {
    return (flow->log_prob(x) * weights).sum();
  };
  expect_same(evaluate(flow, y, true, node, weighted_log_prob),
              evaluate(flow, y, false, node, weighted_log_prob));
}

void expect_sampling_direction_matches_composite(flows::Flow& flow, const torch::Tensor& z,
                                                 const std::string& node) {
  auto weights = torch::randn_like(z);
  auto forward = [&](const torch::Tensor& x) {
    auto r = flow->bijector()->forward_and_log_det(x);
    return (r.output * weights).sum() + r.log_det.sum();
  };
  expect_same(evaluate(flow, z, true, node, forward), evaluate(flow, z, false, node, forward));
}

std::vector<FusedLayout> fused_layouts() {
  return {FusedLayout{5, 2, 2, 0, false}, FusedLayout{3, 0, 0, 0, true},
          FusedLayout{3, 0, 0, 3, false}};
}

FusedCase random_fused_case(const FusedLayout& layout, int64_t params_per_feature, int64_t rows,
                            double x_scale) {
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const int64_t transformed = layout.features - layout.split;
  const int64_t net_in = layout.separate_input
                             ? layout.separate_input
                             : (layout.split ? layout.split : layout.features) + layout.context;
  FusedCase c;
  c.layers.activation = nn::KernelActivation::kTanh;
  const std::vector<int64_t> widths = {net_in, 7, params_per_feature * transformed};
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    c.layers.weights.push_back(torch::randn({widths[l + 1], widths[l]}, opts).requires_grad_(true));
    c.layers.biases.push_back(torch::randn({widths[l + 1]}, opts).requires_grad_(true));
    if (layout.masked)
      c.layers.masks.push_back((torch::rand({widths[l + 1], widths[l]}) > 0.3).to(torch::kDouble));
  }
  c.inputs.x = (torch::randn({rows, layout.features}, opts) * x_scale).requires_grad_(true);
  c.inputs.split = layout.split;
  if (layout.context)
    c.inputs.context = torch::randn({rows, layout.context}, opts).requires_grad_(true);
  if (layout.separate_input)
    c.inputs.conditioner_input =
        torch::randn({rows, layout.separate_input}, opts).requires_grad_(true);
  c.wrt = {c.inputs.x};
  if (c.inputs.context.defined()) c.wrt.push_back(c.inputs.context);
  if (c.inputs.conditioner_input.defined()) c.wrt.push_back(c.inputs.conditioner_input);
  for (auto& w : c.layers.weights) c.wrt.push_back(w);
  for (auto& b : c.layers.biases) c.wrt.push_back(b);
  return c;
}

torch::Tensor composite_conditioner(const FusedCase& c) {
  const auto& in = c.inputs;
  auto h = in.conditioner_input;
  if (!h.defined()) {
    h = in.split > 0 ? in.x.narrow(1, 0, in.split) : in.x;
    if (in.context.defined()) h = torch::cat({h, in.context}, 1);
  }
  const auto& layers = c.layers;
  for (size_t l = 0; l < layers.weights.size(); ++l) {
    auto w = layers.masks.empty() ? layers.weights[l] : layers.weights[l] * layers.masks[l];
    h = torch::nn::functional::linear(h, w, layers.biases[l]);
    if (l + 1 < layers.weights.size())
      h = layers.activation == nn::KernelActivation::kTanh ? torch::tanh(h) : torch::relu(h);
  }
  return h;
}

std::string describe(const FusedLayout& layout) {
  return "layout split " + std::to_string(layout.split) + " context " +
         std::to_string(layout.context) + " separate " + std::to_string(layout.separate_input);
}

void expect_gradients_match_finite_differences(const std::function<torch::Tensor()>& loss,
                                               const std::vector<torch::Tensor>& wrt,
                                               const std::string& what) {
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
        << what << ", input " << i << ": max error "
        << (analytic[i].reshape(-1) - numeric).abs().max().item<double>();
  }
}

}  // namespace diffeo::testing
