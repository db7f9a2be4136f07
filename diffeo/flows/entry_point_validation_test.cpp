// Every public entry point validates its input (issue #10): every registered
// flow (and its conditional variant), StandardNormal, Normal and Transformed,
// and a representative set of bijectors through forward / inverse /
// forward_and_log_det / inverse_and_log_det are called with bad input, and each
// call must throw a diffeo::Error (never a c10::Error, another exception or a
// crash) whose message names the class, the argument and what was received.
//
// Decided behaviours checked here (documented in flow.h, distribution.h and
// bijector.h):
//  - dtype: inputs (and contexts) must have the model's dtype; float64 data
//    into a float32 model is refused, not converted.  After ->to(kFloat64) the
//    same model takes float64 input.  Integer and bool tensors are refused.  A
//    bijector without floating-point parameters (Permute) takes any floating
//    dtype; a composite (Chain, Inverse, Block) is checked against the first
//    parameter inside it.
//  - empty batch: log_prob([0, D]) returns [0]; a bijector maps [0, D] to
//    [0, D] with a log-det of shape [0]; ActNorm's data-dependent
//    initialisation waits for a non-empty batch.
//  - batch rank: any number of batch dimensions, [a, b, D] -> [a, b], equal to
//    the flattened batch's values; a 0-dim input is refused for vector events.
//  - n: sample(n) and sample_and_log_prob(n) need n >= 1; n == 0 is refused
//    like every count in diffeo (toy data, sample_images).
//  - context: a conditional flow needs one, of its width, with a batch shape
//    that broadcasts to the input's, of the input's dtype; an unconditional
//    flow ignores it.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

constexpr int64_t D = 3;  // event size
constexpr int64_t K = 2;  // context width of the conditional variants

// expect_error, reporting (not propagating) any other exception, so one test
// lists every entry point that fails rather than stopping at the first.
template <typename F>
void refuses(const std::string& label, F statement, std::initializer_list<const char*> parts) {
  SCOPED_TRACE(label);
  try {
    testing::expect_error(statement, parts);
  } catch (const c10::Error& e) {
    ADD_FAILURE() << "c10::Error instead of diffeo::Error: " << e.what_without_backtrace();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "std::exception instead of diffeo::Error: " << e.what();
  }
}

// The statement must not throw.
template <typename F>
void works(const std::string& label, F statement) {
  SCOPED_TRACE(label);
  try {
    statement();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw: " << e.what();
  }
}

torch::Tensor context_rows(int64_t k, torch::IntArrayRef batch) {
  if (k == 0) return {};
  auto shape = batch.vec();
  shape.push_back(k);
  return torch::randn(shape);
}

// ---------------------------------------------------------------------------
// Distributions: log_prob, sample, sample_and_log_prob.

struct DistributionCase {
  std::string label;  // for messages
  std::string where;  // class name the messages must start with
  std::function<Distribution()> make;
  int64_t context = 0;  // context width; 0: unconditional
};

std::vector<DistributionCase> distribution_cases() {
  std::vector<DistributionCase> cases;
  cases.push_back({"StandardNormal", "StandardNormal", [] { return StandardNormal(D); }});
  cases.push_back({"Normal", "Normal",
                   [] { return Normal(torch::zeros({D}), torch::ones({D})); }});
  cases.push_back({"Transformed", "Transformed", [] {
                     return Transformed(StandardNormal(D),
                                        Chain({LULinear(LULinearOptions(D).seed(3)),
                                               Block(ScalarAffine(torch::zeros({D}),
                                                                  torch::zeros({D})),
                                                     1)}));
                   }});
  for (const auto& name : flows::flow_names()) {
    auto options = flows::FlowOptions(D).hidden({8}).layers(2).seed(1);
    cases.push_back({"flow " + name, "Flow", [name, options] { return flows::build(name, options); }});
    auto conditional = flows::FlowOptions(options).context_features(K);
    try {
      flows::build(name, conditional);
    } catch (const Error&) {
      continue;  // no conditional variant
    }
    cases.push_back({"flow " + name + "/context", "Flow",
                     [name, conditional] { return flows::build(name, conditional); }, K});
  }
  return cases;
}

void check_log_prob_refuses(const DistributionCase& c) {
  auto d = c.make();
  const char* where = c.where.c_str();
  auto ctx = context_rows(c.context, {4});
  auto log_prob = [&](torch::Tensor x, torch::Tensor context) {
    return [d, x, context]() mutable { d->log_prob(x, context); };
  };
  refuses(c.label + " undefined x", log_prob({}, ctx), {where, "'x'", "undefined"});
  refuses(c.label + " int x", log_prob(torch::zeros({4, D}, torch::kLong), ctx),
          {where, "'x'", "int64"});
  refuses(c.label + " bool x", log_prob(torch::zeros({4, D}, torch::kBool), ctx),
          {where, "'x'", "bool"});
  refuses(c.label + " float64 x", log_prob(torch::zeros({4, D}, torch::kFloat64), ctx),
          {where, "'x'", "float64", "float32"});
  refuses(c.label + " wrong event size", log_prob(torch::zeros({4, D + 1}), ctx),
          {where, "'x'", "event size 4", "event size 3"});
  refuses(c.label + " 0-dim x", log_prob(torch::tensor(1.0f), ctx),
          {where, "'x'", "at least 1 dimension", "[]"});
  refuses(c.label + " 0-dim context", log_prob(torch::zeros({4, D}), torch::tensor(1.0f)),
          {where, "'context'", "0-dim"});
  if (c.context == 0) return;
  refuses(c.label + " no context", log_prob(torch::zeros({4, D}), {}),
          {where, "'context'", "width 2", "none"});
  refuses(c.label + " context too wide", log_prob(torch::zeros({4, D}), torch::zeros({4, K + 1})),
          {where, "'context'", "[4, 3]", "2 features"});
  refuses(c.label + " context rows", log_prob(torch::zeros({4, D}), torch::zeros({5, K})),
          {where, "'context'", "[5, 2]", "[4]"});
  refuses(c.label + " int context", log_prob(torch::zeros({4, D}), torch::zeros({4, K}, torch::kLong)),
          {where, "'context'", "int64"});
  refuses(c.label + " float64 context",
          log_prob(torch::zeros({4, D}), torch::zeros({4, K}, torch::kFloat64)),
          {where, "'context'", "float64", "float32"});
}

void check_sample_refuses(const DistributionCase& c) {
  auto d = c.make();
  const char* where = c.where.c_str();
  auto ctx = context_rows(c.context, {3});
  for (int64_t n : {0, -2}) {
    const auto count = std::to_string(n);
    refuses(c.label + " sample(" + count + ")", [&] { d->sample(n, ctx); },
            {where, "'n'", "positive", count.c_str()});
    refuses(c.label + " sample_and_log_prob(" + count + ")",
            [&] { d->sample_and_log_prob(n, ctx); }, {where, "'n'", "positive", count.c_str()});
  }
  refuses(c.label + " sample 0-dim context", [&] { d->sample(2, torch::tensor(1.0f)); },
          {where, "'context'", "0-dim"});
  if (c.context == 0) return;
  refuses(c.label + " sample without context", [&] { d->sample(2); },
          {where, "'context'", "width 2", "none"});
  refuses(c.label + " sample_and_log_prob without context", [&] { d->sample_and_log_prob(2); },
          {where, "'context'", "width 2", "none"});
  refuses(c.label + " sample context too wide", [&] { d->sample(2, torch::zeros({3, K + 1})); },
          {where, "'context'", "[3, 3]", "2 features"});
  refuses(c.label + " sample int context",
          [&] { d->sample(2, torch::zeros({3, K}, torch::kInt)); }, {where, "'context'", "int32"});
  refuses(c.label + " sample float64 context",
          [&] { d->sample_and_log_prob(2, torch::zeros({3, K}, torch::kFloat64)); },
          {where, "'context'", "float64", "float32"});
}

// Good but unusual input: an empty batch, several batch dimensions, float64
// after ->to(kFloat64), and the shapes of samples.
void check_distribution_works(const DistributionCase& c) {
  auto d = c.make();
  // Training mode (the default) first: an empty batch must not trip ActNorm's
  // data-dependent initialisation.
  works(c.label + " empty batch", [&] {
    auto lp = d->log_prob(torch::zeros({0, D}), context_rows(c.context, {0}));
    EXPECT_EQ(lp.sizes(), torch::IntArrayRef({0}));
  });
  d->eval();
  torch::NoGradGuard no_grad;
  works(c.label + " batch [2, 4]", [&] {
    auto x = torch::randn({2, 4, D});
    auto ctx = context_rows(c.context, {2, 4});
    auto lp = d->log_prob(x, ctx);
    ASSERT_EQ(lp.sizes(), torch::IntArrayRef({2, 4}));
    auto flat = d->log_prob(x.reshape({8, D}), c.context ? ctx.reshape({8, c.context}) : ctx);
    EXPECT_TRUE(torch::allclose(lp.reshape({8}), flat, 1e-5, 1e-5));
  });
  if (c.context > 0)
    works(c.label + " one context row for the batch", [&] {
      auto x = torch::randn({4, D});
      auto row = torch::randn({1, c.context});
      EXPECT_TRUE(torch::allclose(d->log_prob(x, row), d->log_prob(x, row.expand({4, c.context})),
                                  1e-5, 1e-5));
    });
  works(c.label + " sample shapes", [&] {
    auto ctx = context_rows(c.context, {3});
    std::vector<int64_t> shape{2};
    if (c.context) shape.push_back(3);
    shape.push_back(D);
    EXPECT_EQ(d->sample(2, ctx).sizes(), torch::IntArrayRef(shape));
    auto both = d->sample_and_log_prob(2, ctx);
    EXPECT_EQ(both.sample.sizes(), torch::IntArrayRef(shape));
    EXPECT_EQ(both.log_prob.sizes(), torch::IntArrayRef(shape).slice(0, shape.size() - 1));
  });
  works(c.label + " float64 after to(kFloat64)", [&] {
    d->to(torch::kFloat64);
    auto lp = d->log_prob(torch::randn({4, D}, torch::kFloat64),
                          c.context ? torch::randn({4, c.context}, torch::kFloat64)
                                    : torch::Tensor());
    EXPECT_EQ(lp.scalar_type(), torch::kFloat64);
    EXPECT_EQ(d->sample(2, c.context ? torch::randn({3, c.context}, torch::kFloat64)
                                     : torch::Tensor())
                  .scalar_type(),
              torch::kFloat64);
  });
}

TEST(EntryPointValidation, DistributionLogProbRefusesBadInput) {
  for (const auto& c : distribution_cases()) check_log_prob_refuses(c);
}

TEST(EntryPointValidation, DistributionSampleRefusesBadInput) {
  for (const auto& c : distribution_cases()) check_sample_refuses(c);
}

TEST(EntryPointValidation, DistributionsTakeEmptyAndMultiDimensionalBatches) {
  for (const auto& c : distribution_cases()) check_distribution_works(c);
}

// An unconditional flow ignores a context (documented in distribution.h), so
// one may pass a context to a mixture of flows without asking which need it.
TEST(EntryPointValidation, UnconditionalFlowIgnoresContext) {
  auto flow = flows::build("realnvp", flows::FlowOptions(D).hidden({8}).layers(2));
  auto x = torch::randn({4, D});
  EXPECT_TRUE(torch::allclose(flow->log_prob(x), flow->log_prob(x, torch::randn({4, 7}))));
}

// ---------------------------------------------------------------------------
// Bijectors: forward, inverse, forward_and_log_det, inverse_and_log_det.

struct BijectorCase {
  std::string label;
  std::string where;  // class named in the messages
  std::function<Bijector()> make;
  int64_t context = 0;
  // A composite: a wrong event size is refused by the member that checks it,
  // which names itself and the argument as it sees it.
  bool composite = false;
  bool any_float_dtype = false;  // no floating-point parameters
};

nn::MLP mlp(int64_t in, int64_t out, int64_t context) {
  return nn::MLP(
      nn::MLPOptions(in, out).hidden({8}).context_features(context).zero_last_layer(false));
}

nn::MADE made(int64_t P, int64_t context) {
  return nn::MADE(nn::MADEOptions(D)
                      .hidden({8})
                      .outputs_per_feature(P)
                      .context_features(context)
                      .zero_last_layer(false));
}

std::vector<BijectorCase> bijector_cases() {
  auto lu = [] { return LULinear(LULinearOptions(D).seed(2)); };
  auto affine = [] {
    return ScalarAffine(0.1 * torch::arange(D, torch::kFloat), 0.2 * torch::ones({D}));
  };
  std::vector<BijectorCase> cases{
      {"Chain", "Chain",
       [lu] { return Chain({Shift(torch::zeros({D})), lu(), Scale(torch::full({D}, 2.0f))}); },
       0, true},
      {"Inverse", "Inverse", [lu] { return Inverse(lu()); }, 0, true},
      {"Block", "Block", [affine] { return Block(affine(), 1); }, 0, true},
      {"RationalQuadraticSpline", "Block",
       [] {
         auto spline = RationalQuadraticSpline(4, std::vector<int64_t>{D});
         {
           torch::NoGradGuard no_grad;
           spline->params().normal_();
         }
         return Block(spline, 1);
       },
       0, true},
      {"Permute", "Permute", [] { return Permute(std::vector<int64_t>{2, 0, 1}); }, 0, false,
       true},
      {"LULinear", "LULinear", lu},
      {"ActNorm", "ActNorm", [] { return ActNorm(D); }},
      {"MaskedCoupling", "MaskedCoupling",
       [] {
         return MaskedCoupling(torch::tensor({1.0f, 0.0f, 1.0f}), torch::nn::AnyModule(mlp(D, 2 * D, 0)),
                               affine_transform());
       }},
      {"SplitCoupling", "SplitCoupling",
       [] { return SplitCoupling(D, 1, torch::nn::AnyModule(mlp(1, 2 * (D - 1), 0)), affine_transform()); }},
      {"MaskedAutoregressive", "MaskedAutoregressive",
       [] { return MaskedAutoregressive(made(2, 0), affine_transform()); }},
      {"MaskedAutoregressive/spline", "MaskedAutoregressive",
       [] { return MaskedAutoregressive(made(3 * 4 - 1, 0), spline_transform(4)); }},
      {"SplitCoupling/context", "SplitCoupling",
       [] { return SplitCoupling(D, 1, torch::nn::AnyModule(mlp(1, 2 * (D - 1), K)), affine_transform()); },
       K},
      {"MaskedCoupling/context", "MaskedCoupling",
       [] {
         return MaskedCoupling(torch::tensor({0.0f, 1.0f, 0.0f}), torch::nn::AnyModule(mlp(D, 2 * D, K)),
                               affine_transform());
       },
       K},
      {"IAF/context", "Inverse",
       [] { return Inverse(MaskedAutoregressive(made(2, K), affine_transform())); }, K, true},
  };
  return cases;
}

using Call = std::function<Result(BijectorImpl&, const torch::Tensor&, const torch::Tensor&)>;

// The four public methods, each with the name of its argument.
std::vector<std::tuple<std::string, std::string, Call>> bijector_calls() {
  return {
      {"forward_and_log_det", "'x'",
       [](BijectorImpl& b, const torch::Tensor& t, const torch::Tensor& c) {
         return b.forward_and_log_det(t, c);
       }},
      {"inverse_and_log_det", "'y'",
       [](BijectorImpl& b, const torch::Tensor& t, const torch::Tensor& c) {
         return b.inverse_and_log_det(t, c);
       }},
      {"forward", "'x'",
       [](BijectorImpl& b, const torch::Tensor& t, const torch::Tensor& c) {
         return Result{b.forward(t, c), {}};
       }},
      {"inverse", "'y'",
       [](BijectorImpl& b, const torch::Tensor& t, const torch::Tensor& c) {
         return Result{b.inverse(t, c), {}};
       }},
  };
}

TEST(EntryPointValidation, BijectorsRefuseBadInput) {
  for (const auto& c : bijector_cases()) {
    auto b = c.make();
    const char* where = c.where.c_str();
    auto ctx = context_rows(c.context, {4});
    for (const auto& [method, argument, call] : bijector_calls()) {
      const auto label = c.label + "::" + method;
      const char* arg = argument.c_str();
      auto run = [&, call = call](torch::Tensor t, torch::Tensor context) {
        return [&b, call, t, context] { call(*b, t, context); };
      };
      refuses(label + " undefined", run({}, ctx), {where, arg, "undefined"});
      refuses(label + " int", run(torch::zeros({4, D}, torch::kInt), ctx), {where, arg, "int32"});
      refuses(label + " bool", run(torch::zeros({4, D}, torch::kBool), ctx), {where, arg, "bool"});
      if (c.any_float_dtype)
        works(label + " float64", [&] {
          auto r = run(torch::zeros({4, D}, torch::kFloat64), ctx);
          r();
        });
      else
        refuses(label + " float64",
                run(torch::zeros({4, D}, torch::kFloat64),
                    c.context ? ctx.to(torch::kFloat64) : ctx),
                {where, arg, "float64", "float32"});
      if (c.composite)
        refuses(label + " wrong event size", run(torch::zeros({4, D + 1}), ctx), {"[4, 4]", "3"});
      else
        refuses(label + " wrong event size", run(torch::zeros({4, D + 1}), ctx),
                {where, arg, "[4, 4]", "3"});
      refuses(label + " 0-dim", run(torch::tensor(1.0f), ctx),
              {where, arg, "at least 1 dimension", "[]"});
      if (c.context == 0) continue;
      refuses(label + " no context", run(torch::zeros({4, D}), {}),
              {"'context'", "width 2", "none"});
      refuses(label + " context too wide", run(torch::zeros({4, D}), torch::zeros({4, K + 1})),
              {"'context'", "[4, 3]", "2 features"});
      refuses(label + " context rows", run(torch::zeros({4, D}), torch::zeros({5, K})),
              {"'context'", "[5, 2]", "[4]"});
      refuses(label + " int context", run(torch::zeros({4, D}), torch::zeros({4, K}, torch::kLong)),
              {where, "'context'", "int64"});
      refuses(label + " float64 context",
              run(torch::zeros({4, D}), torch::zeros({4, K}, torch::kFloat64)),
              {where, "'context'", "float64", "float32"});
    }
  }
}

TEST(EntryPointValidation, BijectorsTakeEmptyAndMultiDimensionalBatches) {
  for (const auto& c : bijector_cases()) {
    auto b = c.make();
    for (const auto& [method, argument, call] : bijector_calls()) {
      const auto label = c.label + "::" + method;
      const bool with_log_det = method.find("log_det") != std::string::npos;
      // Training mode first: ActNorm must not initialise from an empty batch.
      b->train();
      works(label + " empty batch", [&, call = call] {
        auto r = call(*b, torch::zeros({0, D}), context_rows(c.context, {0}));
        EXPECT_EQ(r.output.sizes(), torch::IntArrayRef({0, D}));
        if (with_log_det) EXPECT_EQ(r.log_det.sizes(), torch::IntArrayRef({0}));
      });
      b->eval();
      torch::NoGradGuard no_grad;
      works(label + " batch [2, 4]", [&, call = call] {
        auto x = torch::randn({2, 4, D});
        auto ctx = context_rows(c.context, {2, 4});
        auto r = call(*b, x, ctx);
        ASSERT_EQ(r.output.sizes(), torch::IntArrayRef({2, 4, D}));
        auto flat = call(*b, x.reshape({8, D}), c.context ? ctx.reshape({8, c.context}) : ctx);
        EXPECT_TRUE(torch::allclose(r.output.reshape({8, D}), flat.output, 1e-5, 1e-5));
        if (!with_log_det) return;
        ASSERT_EQ(r.log_det.sizes(), torch::IntArrayRef({2, 4}));
        EXPECT_TRUE(torch::allclose(r.log_det.reshape({8}), flat.log_det, 1e-5, 1e-5));
      });
    }
  }
  // ActNorm waited for data: the first non-empty training batch initialises it.
  auto act_norm = ActNorm(D);
  act_norm->inverse(torch::zeros({0, D}));
  EXPECT_FALSE(act_norm->initialized());
  act_norm->inverse(torch::randn({16, D}));
  EXPECT_TRUE(act_norm->initialized());
}

}  // namespace
}  // namespace diffeo
