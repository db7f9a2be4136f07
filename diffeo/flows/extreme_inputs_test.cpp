// Flows and their transforms at extreme inputs (issue #10): +-1e6, the spline's
// bound B and one ulp either side of it, the spline's interior knots exactly,
// and non-finite inputs.  Every registered flow (and its transform and
// conditional variants), float32 and float64, fused kernels on and off:
// log_prob is finite there (or exactly -inf where documented, never NaN), its
// gradients are finite, round trips and samples are finite, and where the
// maths gives an exact answer (the spline is the identity outside [-B, B],
// hits its knots exactly, ...) the test asserts it.
//
// Documented behaviours checked here (flow.h, spline.h, bernstein.h, normal.h):
//  - finite input: finite log_prob for every registered flow (an exactly zero
//    density, e.g. off a "logit" flow's support, gives exactly -inf);
//  - a row with NaN (in the data or the context) gives NaN; a row with +-inf
//    and no NaN gives -inf; the other rows are unaffected and so are the
//    gradients of their sum;
//  - the spline: identity with log-det exactly 0 outside [-B, B]; at knot k
//    exactly, y = y_k and log-det = log d_k;
//  - the unbounded Bernstein polynomial: continued linearly, so its log-det is
//    the end slope's however far out.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "diffeo/bijectors/fused_affine.h"
#include "diffeo/bijectors/fused_spline.h"
#include "diffeo/core/fusion.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/tensor_checks.h"

namespace diffeo::flows {
namespace {

using testing::all_finite;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kBound = 6.0;  // FlowOptions' default spline bound

struct Config {
  std::string label, flow;
  FlowOptions options;
  json spec;  // when not null, build(spec) instead
};

std::vector<Config> configs() {
  std::vector<Config> out;
  for (int64_t dim : {2, 3}) {
    auto small = [dim] { return FlowOptions(dim).layers(2).hidden({8}).seed(5); };
    const auto d = "/d" + std::to_string(dim);
    for (const auto& name : flow_names()) {
      std::vector<std::pair<std::string, FlowOptions>> variants;
      if (name == "maf" || name == "realnvp") {
        for (std::string t : {"affine", "spline", "bernstein"})
          variants.push_back({name + "/" + t, small().transform(t)});
      } else if (name == "nsf") {
        variants.push_back({"nsf/coupling", small()});
        variants.push_back({"nsf/autoregressive", small().variant("autoregressive")});
      } else if (name == "bernstein") {
        variants.push_back({"bernstein/none", small()});
        variants.push_back({"bernstein/sigmoid", small().squash("sigmoid")});
      } else {
        variants.push_back({name, small()});
      }
      for (const auto& [label, options] : variants) {
        out.push_back({label + d, name, options, json()});
        // The conditional variant, where the flow takes a context.
        auto conditional = FlowOptions(options).context_features(2);
        try {
          build(name, conditional);
          out.push_back({label + "/context" + d, name, conditional, json()});
        } catch (const Error&) {
        }
      }
    }
    // Standardised data, and a "logit" flow on the unit cube.
    std::vector<double> mean(dim, 0.5), scale(dim, 2.0);
    out.push_back({"maf/standardize" + d, "maf", small(),
                   json{{"flow", "maf"},
                        {"options", to_json(small())},
                        {"standardize", {{"mean", mean}, {"scale", scale}}}}});
    out.push_back(
        {"maf/logit" + d, "maf", small(),
         json{{"flow", "maf"}, {"options", to_json(small())}, {"logit", {{"lambda", 0.05}}}}});
  }
  return out;
}

Flow make(const Config& c) { return c.spec.is_null() ? build(c.flow, c.options) : build(c.spec); }

bool logit(const Config& c) { return !c.spec.is_null() && c.spec.contains("logit"); }

torch::Tensor context_for(const Config& c, int64_t rows, torch::Dtype dtype) {
  if (c.options.context_features() == 0) return {};
  torch::manual_seed(8);
  return torch::randn({rows, c.options.context_features()}).to(dtype);
}

// A flow with every parameter perturbed away from the identity builders start
// at (ActNorm initialised on an ordinary first batch first), in eval mode.
Flow perturbed(const Config& c, torch::Dtype dtype) {
  torch::manual_seed(21);
  auto flow = make(c);
  flow->to(dtype);
  const int64_t D = c.options.dim();
  auto first = logit(c) ? torch::rand({64, D}) : torch::randn({64, D}) * 2 + 1;
  flow->log_prob(first.to(dtype), context_for(c, 64, dtype));
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.5);
  flow->eval();
  return flow;
}

// The extreme points of the brief, as rows of D coordinates, in `dtype`: 0,
// +-1, +-1e3, +-1e6, one coordinate at +-1e6 and the others 0 or 1, +-B and
// one ulp either side of it (in the dtype's own spacing), on one coordinate
// and on all.
torch::Tensor extreme_points(int64_t D, torch::Dtype dtype) {
  const bool single = dtype == torch::kFloat32;
  auto ulp = [single](double b, double toward) {
    return single ? static_cast<double>(
                        std::nextafter(static_cast<float>(b), static_cast<float>(toward)))
                  : std::nextafter(b, toward);
  };
  std::vector<double> values{0, 1, -1, 1e3, -1e3, 1e6, -1e6};
  for (double b : {kBound, -kBound}) {
    values.push_back(b);
    values.push_back(ulp(b, kInf));
    values.push_back(ulp(b, -kInf));
  }
  std::vector<std::vector<double>> rows;
  for (double v : values) rows.push_back(std::vector<double>(D, v));
  for (int64_t j = 0; j < D; ++j)
    for (double v : values)
      for (double rest : {0.0, 1.0}) {
        std::vector<double> row(D, rest);
        row[j] = v;
        rows.push_back(row);
      }
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kFloat64).reshape({-1, D}).to(dtype);
}

bool has_nan(const torch::Tensor& t) { return torch::isnan(t).any().item<bool>(); }

// Every gradient of `scalar` w.r.t. `wrt` is finite (unused ones are skipped).
void expect_finite_gradients(const torch::Tensor& scalar, const std::vector<torch::Tensor>& wrt,
                             const std::string& what) {
  ASSERT_TRUE(scalar.requires_grad()) << what;
  auto grads = torch::autograd::grad({scalar}, wrt, {}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined()) EXPECT_TRUE(all_finite(grads[i])) << what << ": gradient " << i;
}

std::vector<torch::Tensor> parameters_of(Flow& flow) {
  std::vector<torch::Tensor> out;
  for (auto& p : flow->parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

// log_prob of `y` finite where the flow's support holds it, its gradients
// (parameters and y) finite; returns log_prob.
torch::Tensor checked_log_prob(Flow& flow, const Config& c, const torch::Tensor& points,
                               const std::string& what) {
  auto y = points.clone().requires_grad_(true);
  auto context = context_for(c, y.size(0), points.scalar_type());
  auto lp = flow->log_prob(y, context);
  EXPECT_FALSE(has_nan(lp)) << what << "\n" << lp;
  if (logit(c)) {
    // Zero density off the unit cube (beyond the lambda margin): exactly -inf.
    auto off = (points < -0.5).any(-1) | (points > 1.5).any(-1);
    auto finite = torch::isfinite(lp);
    EXPECT_TRUE(torch::equal(finite, ~off)) << what << "\n" << lp;
    EXPECT_TRUE((lp.detach().masked_select(off) == -kInf).all().item<bool>()) << what;
  } else {
    EXPECT_TRUE(all_finite(lp)) << what << "\n"
                                << torch::cat({points, lp.detach().unsqueeze(1)}, 1);
  }
  auto wrt = parameters_of(flow);
  wrt.push_back(y);
  expect_finite_gradients(lp.masked_select(torch::isfinite(lp.detach())).sum(), wrt, what);
  return lp.detach();
}

// f^-1(f(x)) and f(f^-1(y)) at the points: finite, and in float64 back where
// they started up to rounding amplified by the map's conditioning.  At |x| =
// 1e6 a conditioner sums terms of size ~1e6 into a log-scale of size ~1, so it
// is known to ~1e6-1e7 ulps only (in float32 that is ~10%: only finiteness is
// checked there), and a spline can be as flat as dy/dx ~ 1e-12 there, so a
// rounding of y moves f^-1(y) by ~1e12 ulps: the bound is 1e7 ulps of the
// largest value, times exp|log-det| of the pass.
void check_round_trips(Flow& flow, const Config& c, const torch::Tensor& points,
                       const std::string& what) {
  // A "logit" flow's points are mostly off its support; the sigmoid-squashed
  // Bernstein flow saturates (sigmoid(y) rounds to 1 beyond |y| ~ 37) and its
  // latents outside the polynomial's range have no preimage (BernsteinFlow).
  if (logit(c) || c.options.squash() == "sigmoid") return;
  torch::NoGradGuard no_grad;
  auto context = context_for(c, points.size(0), points.scalar_type());
  auto bijector = flow->bijector();
  const double eps = 2.2e-16;
  for (bool density_first : {true, false}) {
    auto there = density_first ? bijector->inverse_and_log_det(points, context)
                               : bijector->forward_and_log_det(points, context);
    auto back = density_first ? bijector->forward(there.output, context)
                              : bijector->inverse(there.output, context);
    const auto label = what + (density_first ? " f(f^-1(y))" : " f^-1(f(x))");
    EXPECT_TRUE(all_finite(there.output)) << label << "\n" << there.output;
    EXPECT_TRUE(all_finite(there.log_det)) << label << "\n" << there.log_det;
    EXPECT_TRUE(all_finite(back)) << label << "\n" << back;
    if (points.scalar_type() != torch::kFloat64) continue;
    auto magnitude = 1 + torch::max(points.abs(), there.output.abs()).amax(1).to(torch::kFloat64);
    auto bound = 1e7 * eps * magnitude * torch::exp(there.log_det.to(torch::kFloat64).abs());
    auto error = (back - points).abs().amax(1).to(torch::kFloat64);
    auto ratio = error / bound;
    auto worst = ratio.argmax().item<int64_t>();
    EXPECT_LT(ratio.max().item<double>(), 1)
        << label << "\n"
        << points[worst] << there.output[worst] << back[worst] << there.log_det[worst];
  }
}

class ExtremeInputs : public ::testing::TestWithParam<torch::Dtype> {};

// Every registered flow at the extreme points, fused and composite.
TEST_P(ExtremeInputs, EveryFlowFiniteWithFiniteGradients) {
  const auto dtype = GetParam();
  for (const auto& c : configs()) {
    auto flow = perturbed(c, dtype);
    auto points = extreme_points(c.options.dim(), dtype);
    torch::Tensor lp[2];
    for (bool fused : {true, false}) {
      FusedKernelsGuard guard(fused);
      const auto what = c.label + (fused ? " fused " : " composite ") + torch::toString(dtype);
      lp[fused] = checked_log_prob(flow, c, points, what);
      check_round_trips(flow, c, points, what);
    }
    // The two paths compute the same maths (loosely: float32 at 1e6).
    auto both = torch::isfinite(lp[0]) & torch::isfinite(lp[1]);
    EXPECT_TRUE(torch::equal(torch::isfinite(lp[0]), torch::isfinite(lp[1]))) << c.label;
    const double rtol = dtype == torch::kFloat64 ? 1e-8 : 1e-3;
    EXPECT_TRUE(torch::allclose(lp[0].masked_select(both), lp[1].masked_select(both), rtol, rtol))
        << c.label << "\n"
        << torch::stack({lp[0], lp[1]}, 1);
  }
}

// A fresh flow (at its initial weights, training mode: Glow's ActNorm
// initialises on the extreme batch itself) is finite there too, and the flows
// that start at the identity give exactly the standard normal's log_prob.
TEST_P(ExtremeInputs, FreshFlowsInTrainingMode) {
  const auto dtype = GetParam();
  for (const auto& c : configs()) {
    if (logit(c)) continue;
    torch::manual_seed(4);
    auto flow = make(c);
    flow->to(dtype);
    flow->train();
    const auto what = c.label + " fresh " + torch::toString(dtype);
    auto points = extreme_points(c.options.dim(), dtype);
    auto lp = checked_log_prob(flow, c, points, what);
    for (auto& p : flow->parameters()) EXPECT_TRUE(all_finite(p)) << what;
    const bool identity =
        c.spec.is_null() && (c.flow == "maf" || c.flow == "realnvp" || c.flow == "nsf" ||
                             (c.flow == "bernstein" && c.options.squash() == "none"));
    if (identity) {
      auto expected = -0.5 * points.to(torch::kFloat64).square().sum(-1) -
                      0.5 * c.options.dim() * std::log(2 * M_PI);
      const double rtol = dtype == torch::kFloat64 ? 1e-9 : 1e-5;
      EXPECT_TRUE(torch::allclose(lp.to(torch::kFloat64), expected, rtol, 1e-5))
          << what << "\n"
          << torch::stack({lp.to(torch::kFloat64), expected}, 1);
    }
    // Sampling a fresh flow: finite draws with finite densities.
    torch::NoGradGuard no_grad;
    flow->eval();
    auto context = context_for(c, 1, dtype);  // one context row, shared by the draws
    const int64_t n = context.defined() || c.options.dim() > 2 ? 1000 : 10000;
    auto draws = flow->sample(n, context.defined() ? context[0] : context);
    EXPECT_TRUE(all_finite(draws)) << what;
    if (!context.defined()) EXPECT_TRUE(all_finite(flow->log_prob(draws))) << what;
  }
}

// A perturbed flow's samples are finite too.
TEST_P(ExtremeInputs, PerturbedFlowSamplesFinite) {
  const auto dtype = GetParam();
  for (const auto& c : configs()) {
    if (c.options.context_features() > 0 || logit(c)) continue;
    auto flow = perturbed(c, dtype);
    torch::NoGradGuard no_grad;
    auto draws = flow->sample(2000);
    EXPECT_TRUE(all_finite(draws)) << c.label;
    EXPECT_TRUE(all_finite(flow->log_prob(draws))) << c.label;
  }
}

// NaN in -> NaN out; +-inf in -> -inf; the finite rows of the batch as if alone,
// and their gradients finite.  Also with the context, and in training mode on
// a fresh flow (Glow's ActNorm must not initialise from the non-finite rows).
TEST_P(ExtremeInputs, NonFiniteInputs) {
  const auto dtype = GetParam();
  for (const auto& c : configs()) {
    for (bool fresh : {false, true}) {
      torch::manual_seed(4);
      auto flow = fresh ? make(c) : perturbed(c, dtype);
      flow->to(dtype);
      if (fresh) flow->train();
      const int64_t D = c.options.dim();
      const double a = logit(c) ? 0.25 : 1.0, b = logit(c) ? 0.5 : -2.0;
      auto row = [&](double first) {
        std::vector<double> r(D, b);
        r[0] = first;
        return r;
      };
      std::vector<std::vector<double>> rows{row(a), row(kNaN), row(kInf), row(-kInf), row(b),
                                            row(a), row(b),    row(kInf), row(a)};
      rows[7][D - 1] = kNaN;  // NaN and inf: NaN
      std::vector<double> flat;
      for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
      auto y = torch::tensor(flat, torch::kFloat64).reshape({-1, D}).to(dtype);
      auto context = context_for(c, y.size(0), dtype);
      if (context.defined()) context[5][0] = kNaN;  // a NaN context: NaN
      const auto what = c.label + (fresh ? " fresh " : " ") + torch::toString(dtype);
      for (bool fused : {true, false}) {
        FusedKernelsGuard guard(fused);
        auto input = y.clone().requires_grad_(true);
        auto lp = flow->log_prob(input, context);
        for (auto& p : flow->parameters()) EXPECT_TRUE(all_finite(p)) << what;
        std::vector<bool> nan_rows{false, true, false, false, false, context.defined(),
                                   false, true, false};
        std::vector<bool> inf_rows{false, false, true, true, false, false, false, false, false};
        std::vector<int64_t> finite_rows;
        for (int64_t i = 0; i < y.size(0); ++i) {
          const double v = lp[i].item<double>();
          if (nan_rows[i]) {
            EXPECT_TRUE(std::isnan(v)) << what << " row " << i << ": " << v;
          } else if (inf_rows[i]) {
            EXPECT_EQ(v, -kInf) << what << " row " << i;
          } else {
            EXPECT_TRUE(std::isfinite(v)) << what << " row " << i << ": " << v;
            finite_rows.push_back(i);
          }
        }
        // The finite rows alone give the same numbers.
        flow->eval();
        auto index = torch::tensor(finite_rows);
        auto alone = flow->log_prob(y.index_select(0, index),
                                    context.defined() ? context.index_select(0, index) : context);
        EXPECT_TRUE(torch::allclose(lp.detach().index_select(0, index), alone.detach(), 1e-5, 1e-5))
            << what;
        auto wrt = parameters_of(flow);
        wrt.push_back(input);
        expect_finite_gradients(lp.index_select(0, index).sum(), wrt, what);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ExtremeInputs, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) {
                           return info.param == torch::kFloat32 ? std::string("Float32")
                                                                : std::string("Float64");
                         });

// ---- The elementwise spline with fixed parameters: exact knots. ----

class ExtremeSpline : public ::testing::TestWithParam<torch::Dtype> {};

spline::SplineOptions spline_options() {
  spline::SplineOptions o;
  o.bound = kBound;
  return o;
}

// Parameters of F = 3 splines of K = 5 bins, far from the identity.
torch::Tensor spline_params(torch::Dtype dtype) {
  torch::manual_seed(13);
  return (torch::randn({3, spline::parameter_count(5)}, torch::kFloat64) * 1.5).to(dtype);
}

// Points per spline (column): every knot of the given axis exactly, +-B and
// one ulp either side, +-1e6, and the knots' midpoints.
torch::Tensor knot_points(const torch::Tensor& knots, torch::Dtype dtype) {
  const bool single = dtype == torch::kFloat32;
  auto ulp = [single](double b, double toward) {
    return single ? static_cast<double>(
                        std::nextafter(static_cast<float>(b), static_cast<float>(toward)))
                  : std::nextafter(b, toward);
  };
  auto k = knots.transpose(0, 1);  // [K + 1, F]
  auto column = [&](double v) { return torch::full({1, k.size(1)}, v, k.options()); };
  std::vector<torch::Tensor> parts{
      k, (k.narrow(0, 0, k.size(0) - 1) + k.narrow(0, 1, k.size(0) - 1)) / 2};
  for (double v : {ulp(kBound, kInf), ulp(kBound, -kInf), ulp(-kBound, kInf), ulp(-kBound, -kInf),
                   1e6, -1e6, 1e3, -1e3})
    parts.push_back(column(v));
  return torch::cat(parts, 0);
}

TEST_P(ExtremeSpline, KnotsBoundsAndTailsExactly) {
  const auto dtype = GetParam();
  const auto options = spline_options();
  auto params = spline_params(dtype).requires_grad_(true);
  auto knots = spline::knots(params.detach(), options);
  const int64_t K = knots.x.size(-1) - 1;
  const double tol = dtype == torch::kFloat64 ? 1e-12 : 2e-5;
  for (bool inverse : {false, true}) {
    const auto& axis = inverse ? knots.y : knots.x;
    const auto& other = inverse ? knots.x : knots.y;
    auto t = knot_points(axis, dtype).requires_grad_(true);
    auto r = spline::rational_quadratic(t, params, inverse, options);
    const auto what = std::string(inverse ? "inverse " : "forward ") + torch::toString(dtype);
    ASSERT_TRUE(all_finite(r.output)) << what;
    ASSERT_TRUE(all_finite(r.log_det)) << what;
    expect_finite_gradients((r.output * 1.3 + r.log_det).sum(), {params, t}, what);
    auto out = r.output.detach(), log_det = r.log_det.detach();
    // At knot k exactly: the other axis's knot k and log-det +-log d_k.
    auto at_knots = out.narrow(0, 0, K + 1), det_knots = log_det.narrow(0, 0, K + 1);
    auto log_slopes = torch::log(knots.derivative).transpose(0, 1);
    EXPECT_TRUE(torch::allclose(at_knots, other.transpose(0, 1), 0, tol * kBound)) << what;
    // Interior knots are hit exactly (theta = 0 in bin k).
    EXPECT_TRUE(
        torch::equal(at_knots.narrow(0, 1, K - 1), other.transpose(0, 1).narrow(0, 1, K - 1)))
        << what << "\n"
        << at_knots << other;
    EXPECT_TRUE(torch::allclose(det_knots, inverse ? -log_slopes : log_slopes, 0, 1e3 * tol))
        << what;
    // Beyond +-B (the ulp outside, +-1e3, +-1e6): the identity, log-det exactly 0.
    auto points = t.detach();
    auto outside = points.abs() > kBound;
    EXPECT_TRUE(torch::equal(out.masked_select(outside), points.masked_select(outside))) << what;
    EXPECT_TRUE((log_det.masked_select(outside) == 0).all().item<bool>()) << what;
    // One ulp inside +-B: next to +-B with slope ~1 (the end slopes are 1).
    // Rows: K + 1 knots, K midpoints, then B+ulp, B-ulp, -B+ulp, -B-ulp, ...
    auto inside_ulp = torch::cat({out[2 * K + 2], out[2 * K + 3]});
    auto inside_det = torch::cat({log_det[2 * K + 2], log_det[2 * K + 3]});
    EXPECT_TRUE(torch::allclose(inside_ulp.abs(), torch::full_like(inside_ulp, kBound), 0, 1e-4))
        << what;
    EXPECT_TRUE(torch::allclose(inside_det, torch::zeros_like(inside_det), 0, 1e-3)) << what;
  }
}

// The fused spline kernel at the same points: a one-layer conditioner with
// zero weights gives every row the same spline parameters (its bias).
TEST_P(ExtremeSpline, FusedKernelMatchesCompositeAtKnots) {
  const auto dtype = GetParam();
  const auto options = spline_options();
  auto params = spline_params(dtype);
  const int64_t F = params.size(0), P = params.size(1);
  auto knots = spline::knots(params, options);
  for (bool inverse : {false, true}) {
    auto t = knot_points(inverse ? knots.y : knots.x, dtype);
    const int64_t N = t.size(0);
    nn::DenseLayers layers;
    layers.activation = nn::KernelActivation::kTanh;
    layers.weights.push_back(torch::zeros({F * P, 1}, dtype).requires_grad_(true));
    layers.biases.push_back(params.reshape({-1}).clone().requires_grad_(true));
    ConditionedInputs inputs;
    auto x = torch::cat({torch::zeros({N, 1}, dtype), t}, 1).requires_grad_(true);
    inputs.x = x;
    inputs.split = 1;
    auto fused = fused_spline(layers, inputs, options, inverse);
    const auto what = std::string(inverse ? "inverse " : "forward ") + torch::toString(dtype);
    ASSERT_TRUE(all_finite(fused.output)) << what;
    ASSERT_TRUE(all_finite(fused.log_det)) << what;
    expect_finite_gradients((fused.output.sum(1) + fused.log_det).sum(),
                            {x, layers.weights[0], layers.biases[0]}, what);
    auto composite = spline::rational_quadratic(t, params, inverse, options);
    // The paths round the knots differently, so in float32 a point on a knot in
    // one may be an ulp off it in the other, where a narrow bin's log-slope
    // changes by ~1e4 per unit of x.
    const double tol = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
    const double det_tol = dtype == torch::kFloat64 ? 1e-10 : 1e-2;
    EXPECT_TRUE(torch::allclose(fused.output.detach().narrow(1, 1, F), composite.output, tol, tol))
        << what;
    EXPECT_TRUE(torch::allclose(fused.log_det.detach(), composite.log_det.sum(1), det_tol, det_tol))
        << what << "\n"
        << torch::stack({fused.log_det.detach(), composite.log_det.sum(1)}, 1);
  }
}

// A whole NSF (one coupling, conditioner's last layer zeroed so the knots are
// known) evaluated exactly at the knots of its transformed coordinate.
TEST_P(ExtremeSpline, WholeFlowAtKnots) {
  const auto dtype = GetParam();
  auto options = FlowOptions(2).layers(1).hidden({8}).bins(5).seed(2);
  auto flow = build("nsf", options);
  flow->to(dtype);
  torch::Tensor last_weight, last_bias;
  for (auto& p : flow->named_parameters()) {
    if (p.key().find("weight") != std::string::npos) last_weight = p.value();
    if (p.key().find("bias") != std::string::npos) last_bias = p.value();
  }
  ASSERT_TRUE(last_weight.defined() && last_bias.defined());
  auto params = spline_params(dtype)[0];
  ASSERT_EQ(last_bias.numel(), params.numel());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.normal_(0, 0.5);
    last_weight.zero_();
    last_bias.copy_(params);
  }
  auto knots = spline::knots(params, spline_options());
  // The density direction inverts the spline: y's knots map to x's.
  auto column = torch::cat({knots.y, torch::tensor({1e6, -1e6, kBound, -kBound}, dtype)});
  auto y = torch::stack({torch::linspace(-3, 3, column.size(0), dtype), column}, 1);
  for (bool fused : {true, false}) {
    FusedKernelsGuard guard(fused);
    const auto what = std::string(fused ? "fused " : "composite ") + torch::toString(dtype);
    auto input = y.clone().requires_grad_(true);
    auto lp = flow->log_prob(input);
    ASSERT_TRUE(all_finite(lp)) << what << "\n" << lp;
    auto wrt = parameters_of(flow);
    wrt.push_back(input);
    expect_finite_gradients(lp.sum(), wrt, what);
    torch::NoGradGuard no_grad;
    auto x = flow->bijector()->inverse(y);
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(
        torch::allclose(x.select(1, 1).narrow(0, 0, knots.x.size(0)), knots.x, 0, tol * kBound))
        << what;
    // Outside [-B, B] the transformed coordinate passes unchanged; its
    // log-det there is 0, so log_prob is the base's.
    auto tail = y.narrow(0, knots.x.size(0), 2);
    EXPECT_TRUE(torch::equal(x.narrow(0, knots.x.size(0), 2).select(1, 1), tail.select(1, 1)))
        << what;
    auto base = -0.5 * tail.square().sum(-1) - std::log(2 * M_PI);
    EXPECT_TRUE(torch::allclose(lp.narrow(0, knots.x.size(0), 2), base, 1e-6, 0)) << what;
  }
}

// ---- The other transforms with fixed extreme parameters. ----

// The affine transform's log-scale is soft-clamped: a raw log-scale of +-1e30
// (or inf) and x = +-1e6 stay finite, in both paths.
TEST_P(ExtremeSpline, AffineSoftClampHoldsAtExtremes) {
  const auto dtype = GetParam();
  const double c = 3.0;
  std::vector<double> raw{1e30, -1e30, kInf, -kInf, 0, 50};
  std::vector<double> xs{1e6, -1e6, 0, kBound};
  const int64_t F = raw.size();
  std::vector<double> flat;
  for (double r : raw) {
    flat.push_back(1e3);  // shift
    flat.push_back(r);
  }
  auto params = torch::tensor(flat, torch::kFloat64).reshape({F, 2}).to(dtype);
  auto transform = affine_transform(c);
  for (bool inverse : {false, true}) {
    auto t = torch::tensor(xs, torch::kFloat64).to(dtype).unsqueeze(1).expand({-1, F}).contiguous();
    auto x = torch::cat({torch::zeros({t.size(0), 1}, dtype), t}, 1).requires_grad_(true);
    nn::DenseLayers layers;
    layers.activation = nn::KernelActivation::kTanh;
    layers.weights.push_back(torch::zeros({F * 2, 1}, dtype).requires_grad_(true));
    layers.biases.push_back(params.reshape({-1}).clone().requires_grad_(true));
    auto fused = fused_affine(layers, {x, 1, {}, {}}, c, inverse);
    auto p = params.clone().requires_grad_(true);
    auto t_leaf = t.clone().requires_grad_(true);
    auto composite = transform->apply(t_leaf, p.unsqueeze(0).expand({t.size(0), F, 2}), inverse);
    const auto what = std::string(inverse ? "inverse " : "forward ") + torch::toString(dtype);
    for (const auto& r : {fused, Result{composite.output, composite.log_det.sum(1)}}) {
      EXPECT_TRUE(all_finite(r.output)) << what << "\n" << r.output;
      EXPECT_TRUE(all_finite(r.log_det)) << what;
      EXPECT_TRUE((r.log_det.abs() <= c * F + 1e-3).all().item<bool>()) << what;
    }
    EXPECT_TRUE(torch::allclose(fused.output.detach().narrow(1, 1, F), composite.output.detach(),
                                1e-5, 1e-5))
        << what;
    expect_finite_gradients((fused.output.sum(1) * 1e-6 + fused.log_det).sum(),
                            {x, layers.weights[0], layers.biases[0]}, what + " fused");
    expect_finite_gradients((composite.output.sum(1) * 1e-6 + composite.log_det.sum(1)).sum(),
                            {t_leaf, p}, what + " composite");
  }
}

// The unbounded Bernstein polynomial continues linearly: at +-1e6 its value
// is finite and its log-det is the end slope's, the same as just outside
// [0, 1]; the bounded one is the identity outside [-B, B] with log-det 0.
TEST_P(ExtremeSpline, BernsteinTailsAreExact) {
  const auto dtype = GetParam();
  torch::manual_seed(17);
  const int64_t M = 8;
  auto plain = (torch::randn({2, M + 1}, torch::kFloat64)).to(dtype).requires_grad_(true);
  auto x = torch::tensor({1e6, -1e6, 2.0, -1.0, 0.0, 1.0}, torch::kFloat64)
               .to(dtype)
               .unsqueeze(1)
               .expand({-1, 2})
               .contiguous()
               .requires_grad_(true);
  auto r = bernstein::apply(x, plain, /*inverse=*/false);
  ASSERT_TRUE(all_finite(r.output) && all_finite(r.log_det)) << r.output << r.log_det;
  auto ld = r.log_det.detach();
  EXPECT_TRUE(torch::equal(ld[0], ld[2])) << ld;  // beyond 1: the slope at 1
  EXPECT_TRUE(torch::equal(ld[1], ld[3])) << ld;  // below 0: the slope at 0
  expect_finite_gradients((r.output * 1e-6 + r.log_det).sum(), {plain, x}, "bernstein forward");
  // The inverse at the forward's images: finite, back at x.
  auto back = bernstein::apply(r.output.detach(), plain, /*inverse=*/true);
  ASSERT_TRUE(all_finite(back.output) && all_finite(back.log_det));
  EXPECT_TRUE(torch::allclose(back.output, x.detach(), 1e-5, 1e-5)) << back.output;
  EXPECT_TRUE(torch::allclose(back.log_det, -ld, 1e-5, 1e-5));

  bernstein::BernsteinOptions bounded;
  bounded.bound = kBound;
  auto params = torch::randn({2, M - 2}, torch::kFloat64).to(dtype).requires_grad_(true);
  auto t = torch::tensor({1e6, -1e6, kBound, -kBound, 7.0, 0.0}, torch::kFloat64)
               .to(dtype)
               .unsqueeze(1)
               .expand({-1, 2})
               .contiguous();
  for (bool inverse : {false, true}) {
    auto b = bernstein::apply(t, params, inverse, bounded);
    ASSERT_TRUE(all_finite(b.output) && all_finite(b.log_det));
    auto outside = t.abs() > kBound;
    EXPECT_TRUE(torch::equal(b.output.detach().masked_select(outside), t.masked_select(outside)));
    EXPECT_TRUE((b.log_det.detach().masked_select(outside) == 0).all().item<bool>());
    // At +-B exactly: +-B, slope 1 (g(0) = 0, g(1) = 1, g'(0) = g'(1) = 1).
    EXPECT_NEAR(b.output[2][0].item<double>(), kBound, 1e-5);
    EXPECT_NEAR(b.output[3][0].item<double>(), -kBound, 1e-5);
    EXPECT_NEAR(b.log_det[2][0].item<double>(), 0, 1e-4);
    expect_finite_gradients((b.output + b.log_det).sum(), {params}, "bounded bernstein");
  }
}

// The elementwise bijectors' non-finite inputs: NaN stays NaN, +-inf is
// outside [-B, B] so the spline passes it through with log-det 0.
TEST_P(ExtremeSpline, NonFiniteThroughTheSpline) {
  const auto dtype = GetParam();
  auto params = spline_params(dtype);
  auto t =
      torch::tensor({kNaN, kInf, -kInf}, torch::kFloat64).to(dtype).unsqueeze(1).expand({-1, 3});
  for (bool inverse : {false, true}) {
    auto r = spline::rational_quadratic(t, params, inverse, spline_options());
    EXPECT_TRUE(torch::isnan(r.output[0]).all().item<bool>());
    EXPECT_TRUE(torch::equal(r.output.narrow(0, 1, 2), t.narrow(0, 1, 2)));
    EXPECT_TRUE((r.log_det.narrow(0, 1, 2) == 0).all().item<bool>());
  }
}

// The standard normal base: finite at 1e6 in float32 (1e12 is representable);
// -inf only once the sum of squares overflows (|z| beyond ~1.8e19 in float32).
TEST(ExtremeBase, StandardNormalLogProb) {
  auto base = StandardNormal(3);
  auto lp =
      base->log_prob(torch::tensor({{1e6f, 1e6f, 1e6f}, {1e19f, 0.f, 0.f}, {3e19f, 0.f, 0.f}}));
  EXPECT_NEAR(lp[0].item<double>(), -1.5e12, 1e6);
  EXPECT_TRUE(std::isfinite(lp[1].item<double>()));
  EXPECT_EQ(lp[2].item<double>(), -kInf);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ExtremeSpline, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) {
                           return info.param == torch::kFloat32 ? std::string("Float32")
                                                                : std::string("Float64");
                         });

}  // namespace
}  // namespace diffeo::flows
