#include "diffeo/testing/bijector_harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <ostream>
#include <utility>

namespace diffeo::testing {

namespace {

constexpr int64_t kBatch = 16;

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

int64_t event_size(const BijectorCase& c) {
  int64_t size = 1;
  for (auto s : c.event_shape) size *= s;
  return size;
}

// Max |a - b| relative to tolerance * (1 + |b|), as a readable failure.
::testing::AssertionResult close(const torch::Tensor& a, const torch::Tensor& b, double tolerance,
                                 const std::string& what) {
  if (!a.sizes().equals(b.sizes()))
    return ::testing::AssertionFailure() << what << ": shapes differ";
  auto excess = ((a - b).abs() - tolerance * (1 + b.abs())).max().item<double>();
  if (!(excess <= 0) || !torch::isfinite(a).all().item<bool>())
    return ::testing::AssertionFailure()
           << what << ": max |difference| " << (a - b).abs().max().item<double>()
           << " exceeds tolerance " << tolerance;
  return ::testing::AssertionSuccess();
}

// Log|det| of the Jacobian of `map` at x [B, event...], one autograd pass per
// output coordinate (batch elements are independent).
torch::Tensor jacobian_log_det(const std::function<torch::Tensor(const torch::Tensor&)>& map,
                               const torch::Tensor& x, int64_t event_size) {
  auto input = x.detach().requires_grad_(true);
  auto output = map(input).reshape({x.size(0), event_size});
  std::vector<torch::Tensor> rows;
  for (int64_t j = 0; j < event_size; ++j) {
    auto grad = torch::autograd::grad({output.select(1, j).sum()}, {input},
                                      /*grad_outputs=*/{}, /*retain_graph=*/true)[0];
    rows.push_back(grad.reshape({x.size(0), event_size}));
  }
  auto jacobian = torch::stack(rows, /*dim=*/1);
  return std::get<1>(torch::linalg_slogdet(jacobian));
}

}  // namespace

void PrintTo(const BijectorCase& c, std::ostream* os) { *os << c.name; }

Bijector make_float64(const BijectorCase& c) {
  auto bijector = c.make();
  bijector->to(torch::kFloat64);
  EXPECT_EQ(bijector->event_rank(), static_cast<int64_t>(c.event_shape.size()))
      << c.name << ": the case's event shape does not match the bijector's event rank";
  return bijector;
}

torch::Tensor sample_inputs(const BijectorCase& c, const std::vector<int64_t>& batch) {
  auto shape = concat(batch, c.event_shape);
  if (c.sample_x) return c.sample_x(shape).to(torch::kFloat64);
  return torch::randn(shape, torch::kFloat64);
}

torch::Tensor sample_context(const BijectorCase& c, const std::vector<int64_t>& batch) {
  if (c.context_dim == 0) return {};
  return torch::randn(concat(batch, {c.context_dim}), torch::kFloat64);
}

void check_round_trip(const BijectorCase& c, double tolerance) {
  torch::manual_seed(1);
  auto b = make_float64(c);
  torch::NoGradGuard no_grad;
  auto x = sample_inputs(c, {kBatch});
  auto ctx = sample_context(c, {kBatch});
  auto y = b->forward(x, ctx);
  EXPECT_TRUE(close(b->inverse(y, ctx), x, tolerance, c.name + " inverse(forward(x))"));
  EXPECT_TRUE(
      close(b->forward(b->inverse(y, ctx), ctx), y, tolerance, c.name + " forward(inverse(y))"));
}

namespace {

// Both log-dets of `b` (forward at x, inverse at y = forward(x)) against the
// autograd Jacobian's; `where` ends the failure messages.  Returns y.
torch::Tensor expect_log_dets_match_jacobian(Bijector& b, const BijectorCase& c,
                                             const torch::Tensor& x, const torch::Tensor& ctx,
                                             double tolerance, const std::string& where) {
  const auto n = event_size(c);
  auto forward = b->forward_and_log_det(x, ctx);
  auto expected =
      jacobian_log_det([&](const torch::Tensor& t) { return b->forward(t, ctx); }, x, n);
  EXPECT_TRUE(close(forward.log_det.detach(), expected, tolerance,
                    c.name + " forward log-det" + where))
      << "at " << x;
  auto y = forward.output.detach();
  auto inverse = b->inverse_and_log_det(y, ctx);
  auto expected_inverse =
      jacobian_log_det([&](const torch::Tensor& t) { return b->inverse(t, ctx); }, y, n);
  EXPECT_TRUE(close(inverse.log_det.detach(), expected_inverse, tolerance,
                    c.name + " inverse log-det" + where))
      << "at " << y;
  return y;
}

}  // namespace

void check_log_det_against_jacobian(const BijectorCase& c, double tolerance) {
  torch::manual_seed(2);
  auto b = make_float64(c);
  expect_log_dets_match_jacobian(b, c, sample_inputs(c, {kBatch}), sample_context(c, {kBatch}),
                                 tolerance, "");
}

void check_log_det_symmetry(const BijectorCase& c, double tolerance) {
  torch::manual_seed(3);
  auto b = make_float64(c);
  torch::NoGradGuard no_grad;
  auto x = sample_inputs(c, {kBatch});
  auto ctx = sample_context(c, {kBatch});
  auto forward = b->forward_and_log_det(x, ctx);
  auto inverse = b->inverse_and_log_det(forward.output, ctx);
  EXPECT_TRUE(close(inverse.log_det, -forward.log_det, tolerance, c.name + " log-det symmetry"));
}

void check_batch_shapes(const BijectorCase& c) {
  torch::manual_seed(4);
  auto b = make_float64(c);
  torch::NoGradGuard no_grad;
  for (std::vector<int64_t> batch : {std::vector<int64_t>{}, {1}, {5}, {2, 3}}) {
    auto x = sample_inputs(c, batch);
    auto ctx = sample_context(c, batch);
    auto forward = b->forward_and_log_det(x, ctx);
    auto inverse = b->inverse_and_log_det(forward.output, ctx);
    EXPECT_EQ(forward.output.sizes(), x.sizes()) << c.name << " forward output shape";
    EXPECT_EQ(inverse.output.sizes(), x.sizes()) << c.name << " inverse output shape";
    EXPECT_EQ(forward.log_det.sizes(), torch::IntArrayRef(batch)) << c.name << " forward log-det";
    EXPECT_EQ(inverse.log_det.sizes(), torch::IntArrayRef(batch)) << c.name << " inverse log-det";
  }
}

void check_context(const BijectorCase& c) {
  torch::manual_seed(5);
  auto b = make_float64(c);
  torch::NoGradGuard no_grad;
  auto x = sample_inputs(c, {kBatch});
  if (c.context_dim == 0) {
    // An unconditional bijector must ignore any context it is handed.
    auto ctx = torch::randn({kBatch, 3}, torch::kFloat64);
    auto plain = b->forward_and_log_det(x);
    auto with = b->forward_and_log_det(x, ctx);
    EXPECT_TRUE(torch::equal(plain.output, with.output)) << c.name << " output changed by context";
    EXPECT_TRUE(torch::equal(plain.log_det, with.log_det)) << c.name << " log-det changed";
    return;
  }
  auto ctx1 = sample_context(c, {kBatch}), ctx2 = sample_context(c, {kBatch});
  auto y1 = b->forward(x, ctx1), y2 = b->forward(x, ctx2);
  EXPECT_GT((y1 - y2).abs().max().item<double>(), 1e-6) << c.name << " ignores its context";
  EXPECT_TRUE(close(b->inverse(y2, ctx2), x, 1e-9, c.name + " round trip with context"));
}

void check_finite_gradients(const BijectorCase& c) {
  torch::manual_seed(6);
  auto b = make_float64(c);
  auto ctx = sample_context(c, {kBatch});
  auto x = sample_inputs(c, {kBatch}).requires_grad_(true);
  auto forward = b->forward_and_log_det(x, ctx);
  auto y = forward.output.detach().requires_grad_(true);
  auto inverse = b->inverse_and_log_det(y, ctx);
  auto loss =
      forward.output.sum() + forward.log_det.sum() + inverse.output.sum() + inverse.log_det.sum();
  loss.backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << c.name << " input gradient";
  EXPECT_TRUE(torch::isfinite(y.grad()).all().item<bool>()) << c.name << " output gradient";
  for (const auto& p : b->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << c.name << " parameter " << p.key() << " unused";
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>())
        << c.name << " gradient of " << p.key();
  }
}

void check_adversarial(const BijectorCase& c, double tolerance) {
  auto b = make_float64(c);
  torch::NoGradGuard no_grad;
  for (const auto& raw : c.adversarial_x) {
    auto x = raw.to(torch::kFloat64);
    auto ctx = sample_context(c, {x.size(0)});
    auto forward = b->forward_and_log_det(x, ctx);
    auto inverse = b->inverse_and_log_det(forward.output, ctx);
    EXPECT_TRUE(torch::isfinite(forward.output).all().item<bool>()) << c.name << " at " << x;
    EXPECT_TRUE(torch::isfinite(forward.log_det).all().item<bool>()) << c.name << " at " << x;
    EXPECT_TRUE(close(inverse.output, x, tolerance, c.name + " adversarial round trip"));
    EXPECT_TRUE(close(inverse.log_det, -forward.log_det, tolerance,
                      c.name + " adversarial log-det symmetry"));
  }
}

namespace {

// d/de of sum(outputs) + sum(log-dets) of `run` at the parameters moved by e
// along `direction`: {by autograd, by central differences with Richardson
// extrapolation}.
std::pair<double, double> directional_derivatives(const std::vector<torch::Tensor>& parameters,
                                                  const std::vector<torch::Tensor>& direction,
                                                  const std::function<Result()>& run) {
  auto total = [&] {
    auto r = run();
    return r.output.sum() + r.log_det.sum();
  };
  auto grads = torch::autograd::grad({total()}, parameters, {}, false, false, true);
  double by_autograd = 0;
  for (size_t i = 0; i < parameters.size(); ++i)
    if (grads[i].defined()) by_autograd += (grads[i] * direction[i]).sum().item<double>();
  auto moved = [&](double e) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) parameters[i].add_(direction[i], e);
    const double value = total().item<double>();
    for (size_t i = 0; i < parameters.size(); ++i) parameters[i].sub_(direction[i], e);
    return value;
  };
  auto central = [&](double h) { return (moved(h) - moved(-h)) / (2 * h); };
  const double h = 1e-4;
  return {by_autograd, (4 * central(h / 2) - central(h)) / 3};
}

}  // namespace

void check_boundary(const BijectorCase& c, double tolerance) {
  torch::manual_seed(6);
  auto b = make_float64(c);
  std::vector<torch::Tensor> parameters, direction;
  for (const auto& p : b->parameters())
    if (p.requires_grad()) {
      parameters.push_back(p);
      direction.push_back(torch::randn_like(p));
    }
  for (const auto& raw : c.boundary_x) {
    auto x = raw.to(torch::kFloat64);
    auto ctx = sample_context(c, {x.size(0)});
    expect_log_dets_match_jacobian(b, c, x, ctx, tolerance, " on the bound");
    if (parameters.empty()) continue;
    // The inverse is differentiated at forward(x) moving with the parameters:
    // an image bound that moves with them (a polynomial's) then keeps the
    // point on it, on the branch its value is computed by.
    for (bool inverse_direction : {false, true}) {
      auto [by_autograd, by_differences] = directional_derivatives(parameters, direction, [&] {
        if (!inverse_direction) return b->forward_and_log_det(x, ctx);
        return b->inverse_and_log_det(b->forward(x, ctx), ctx);
      });
      EXPECT_NEAR(by_autograd, by_differences, 1e-5 * (1 + std::abs(by_differences)))
          << c.name << (inverse_direction ? " inverse(forward(x))" : " forward")
          << ": a parameter gradient on the bound, at x = " << x;
    }
  }
}

void check_all(const BijectorCase& c) {
  check_round_trip(c);
  check_log_det_against_jacobian(c);
  check_log_det_symmetry(c);
  check_batch_shapes(c);
  check_context(c);
  check_finite_gradients(c);
  check_adversarial(c);
  check_boundary(c);
}

}  // namespace diffeo::testing
