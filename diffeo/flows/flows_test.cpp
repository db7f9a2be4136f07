// The flow builders: every flow's bijector through the property harness, its
// samples against its own density, a short seeded fit that beats a Gaussian,
// specs and the registry.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/flows/standardization.h"
#include "diffeo/flows/transforms.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/goodness_of_fit.h"

namespace diffeo::flows {
namespace {

using testing::expect_error;

struct FlowCase {
  std::string name;
  std::string flow;
  FlowOptions options;
};

void PrintTo(const FlowCase& c, std::ostream* os) { *os << c.name; }

std::vector<FlowCase> flow_cases() {
  auto small = [](int64_t context = 0) {
    return FlowOptions(2).layers(2).hidden({16, 16}).context_features(context).seed(3);
  };
  return {
      {"MAF", "maf", small()},
      {"MAFSpline", "maf", small().transform("spline")},
      {"RealNVP", "realnvp", small()},
      {"NSFCoupling", "nsf", small()},
      {"NSFAutoregressive", "nsf", small().variant("autoregressive")},
      {"Glow", "glow", small()},
      {"Bernstein", "bernstein", small()},
      {"MAFBernstein", "maf", small().transform("bernstein")},
      {"ConditionalBernstein", "bernstein", small(3)},
      {"ConditionalMAF", "maf", small(3)},
      {"ConditionalNSF", "nsf", small(3)},
      {"HINT", "hint", small()},
      {"ConditionalHINT", "hint", small(3)},
  };
}

// A flow with every parameter perturbed (builders start at the identity) and,
// for Glow, ActNorm initialised on a non-standard batch.  Deterministic.
Flow perturbed(const FlowCase& c) {
  torch::manual_seed(21);
  auto flow = build(c.flow, c.options);
  auto context = c.options.context_features() > 0 ? torch::randn({64, c.options.context_features()})
                                                  : torch::Tensor();
  flow->log_prob(torch::randn({64, 2}) * 2 + 1, context);  // ActNorm's first batch
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.2);
  flow->eval();
  return flow;
}

class FlowProperties : public ::testing::TestWithParam<FlowCase> {};

TEST_P(FlowProperties, BijectorPassesTheHarness) {
  const auto c = GetParam();
  // (6, -6) lies on the default bound of the spline and Bernstein transforms,
  // which map it to itself layer after layer (issue 20: a Bernstein MAF's
  // autograd Jacobian there once gave log|det| -13.86 against the log-det 0).
  const auto on_the_bound = torch::tensor({{6.0, -6.0}, {-6.0, 6.0}}, torch::kFloat64);
  testing::BijectorCase bijector_case{c.name,
                                      [c] { return perturbed(c)->bijector(); },
                                      {2},
                                      {},
                                      {},
                                      c.options.context_features(),
                                      {on_the_bound}};
  testing::check_all(bijector_case);
}

TEST_P(FlowProperties, SamplesMatchTheFlowsOwnDensity) {
  const auto c = GetParam();
  auto flow = perturbed(c);
  flow->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  // A conditional flow is checked at one context row: p(x | context).
  const auto width = c.options.context_features();
  auto context = width > 0 ? torch::linspace(-1, 2, width, torch::kFloat64) : torch::Tensor();
  auto log_prob = [&](const torch::Tensor& x) { return flow->log_prob(x, context); };
  auto draws = flow->sample(50000, width > 0 ? context.unsqueeze(0) : context,
                            at::make_generator<at::CPUGeneratorImpl>(5));
  // The base draws in the flow's dtype, the default dtype untouched.
  EXPECT_EQ(draws.scalar_type(), torch::kFloat64);
  EXPECT_EQ(torch::get_default_dtype(), torch::kFloat32);
  draws = draws.reshape({-1, 2});
  // Boxes around the flow's own scale: +-4 sd for the histogram, +-10 sd to integrate.
  auto mean = draws.mean(0), sd = draws.std(0);
  auto box = [&](double k) {
    return data::PlotRange{mean[0].item<double>() - k * sd[0].item<double>(),
                           mean[0].item<double>() + k * sd[0].item<double>(),
                           mean[1].item<double>() - k * sd[1].item<double>(),
                           mean[1].item<double>() + k * sd[1].item<double>()};
  };
  auto chi2 = testing::chi_square(log_prob, draws, box(4), 20, 8);
  EXPECT_LT(chi2.statistic, chi2.threshold())
      << c.name << ": chi-square " << chi2.statistic << " on " << chi2.dof << " dof";
  EXPECT_GT(chi2.coverage, 0.97);
  EXPECT_NEAR(testing::integrate(log_prob, box(10), 400), 1.0, 5e-3);
}

TEST_P(FlowProperties, SpecRebuildsTheSameArchitecture) {
  const auto c = GetParam();
  auto flow = build(c.flow, c.options);
  auto again = build(flow->spec());
  EXPECT_EQ(again->spec(), flow->spec());
  ASSERT_EQ(again->parameters().size(), flow->parameters().size());
  for (size_t i = 0; i < flow->parameters().size(); ++i)  // the seed fixes the initial weights
    EXPECT_TRUE(torch::equal(again->parameters()[i], flow->parameters()[i])) << i;
  auto reseeded = build(c.flow, FlowOptions(c.options).seed(c.options.seed() + 1));
  bool differs = false;
  for (size_t i = 0; i < flow->parameters().size(); ++i)
    differs = differs || !torch::equal(reseeded->parameters()[i], flow->parameters()[i]);
  // Only the unconditional Bernstein flow starts from fixed values (the
  // identity) whatever the seed: it has no network.
  EXPECT_EQ(differs, c.flow != "bernstein" || c.options.context_features() > 0);
  EXPECT_EQ(to_json(options_from_json(to_json(c.options))), to_json(c.options));
}

INSTANTIATE_TEST_SUITE_P(Flows, FlowProperties, ::testing::ValuesIn(flow_cases()),
                         [](const auto& info) { return info.param.name; });

// -log-likelihood of the best Gaussian fit: 0.5 log det(2 pi e Sigma).
double gaussian_fit_nll(const torch::Tensor& x) {
  auto centred = x - x.mean(0);
  auto cov = torch::matmul(centred.t(), centred) / x.size(0);
  return 0.5 * torch::logdet(2 * M_PI * M_E * cov).item<double>();
}

TEST(FlowTraining, EveryFlowBeatsAGaussianOnBanana) {
  const auto& banana = data::toy("banana");
  auto test = banana.sample(20000, at::make_generator<at::CPUGeneratorImpl>(99));
  const double gaussian = gaussian_fit_nll(test.to(torch::kFloat64));
  for (std::string name : {"maf", "realnvp", "nsf", "glow", "hint"}) {
    torch::manual_seed(0);
    auto flow = build(name, FlowOptions(2).layers(4).hidden({32, 32}));
    auto report = train::fit(
        flow,
        [&](int64_t n, at::Generator& g) {
          return std::make_pair(banana.sample(n, g), torch::Tensor());
        },
        train::FitOptions().steps(300).batch_size(256).learning_rate(5e-3).validate_every(0));
    torch::NoGradGuard no_grad;
    const double nll = -flow->log_prob(test).mean().item<double>();
    EXPECT_LT(nll, gaussian - 0.15) << name << ": " << nll << " vs Gaussian " << gaussian;
    EXPECT_EQ(report.steps, 300);
  }
}

// A univariate Bernstein flow learns a bimodal density a Gaussian cannot.
TEST(FlowTraining, BernsteinFlowFitsABimodalSample) {
  torch::manual_seed(5);
  auto sign = torch::randint(0, 2, {4000, 1}).to(torch::kFloat) * 2 - 1;
  auto data = 2 * sign + 0.5 * torch::randn({4000, 1});
  auto flow =
      build("bernstein", FlowOptions(1).order(16), standardization_of(data, "the bimodal sample"));
  train::fit(flow, data, train::FitOptions().steps(600).learning_rate(0.05).validate_every(0));
  torch::NoGradGuard no_grad;
  const double nll = -flow->log_prob(data).mean().item<double>();
  const double gaussian = 0.5 * std::log(2 * M_PI * M_E * data.var().item<double>());
  EXPECT_LT(nll, gaussian - 0.3) << nll << " vs Gaussian " << gaussian;
}

// The exact chain integrates to 1; the reference's sigmoid chain misses the
// base's mass outside z in (a2 g(0) + b2, a2 g(1) + b2) = (-2.5, 2.5) at the start.
TEST(FlowTraining, BernsteinSquashChoices) {
  auto mass = [](const std::string& squash) {
    auto flow = build("bernstein", FlowOptions(1).squash(squash));
    flow->to(torch::kFloat64);
    torch::NoGradGuard no_grad;
    auto y = torch::linspace(-60, 60, 240001, torch::kFloat64).unsqueeze(1);
    return (flow->log_prob(y).exp().sum() * (120.0 / 240000)).item<double>();
  };
  EXPECT_NEAR(mass("none"), 1.0, 1e-4);
  EXPECT_NEAR(mass("sigmoid"), std::erf(2.5 / std::sqrt(2.0)), 1e-4);  // Phi(2.5) - Phi(-2.5)
  testing::expect_error([] { (void)build("bernstein", FlowOptions(1).squash("tanh")); },
                        {"'squash'", "tanh"});
}

// Each flow's default learning rate reaches its documented result in the
// default steps; the Bernstein flow's coefficients need 0.02 (docs/results.md:
// 1.44 against 1.54 nats at 1e-3 on the bimodal sample).
TEST(Registry, DefaultLearningRates) {
  for (const auto& name : flow_names())
    EXPECT_EQ(default_learning_rate(name), name == "bernstein" ? 0.02 : kDefaultLearningRate)
        << name;
  expect_error([] { (void)default_learning_rate("flowy"); }, {"unknown flow 'flowy'"});
  expect_error([] { register_flow("fast", "", [](const FlowOptions&) { return Bijector(nullptr); }, 0); },
               {"register_flow", "'learning_rate'", "positive"});
  // make_transform refuses a name it does not know instead of building a spline.
  expect_error([] { (void)make_transform(FlowOptions(2).transform("cubic")); },
               {"make_transform", "'transform'", "cubic"});
}

TEST(Registry, NamesAndErrors) {
  EXPECT_EQ(flow_names(),
            (std::vector<std::string>{"maf", "realnvp", "nsf", "glow", "hint", "bernstein"}));
  EXPECT_FALSE(flow_description("nsf").empty());
  expect_error([] { (void)build("flowy", FlowOptions(2)); },
               {"unknown flow 'flowy'", "maf", "realnvp", "nsf", "glow"});
  expect_error(
      [] {
        (void)build(json{{"flow", "maf"}, {"options", {{"dim", 2}, {"layrs", 3}}}});
      },
      {"unknown key", "'layrs'"});
  expect_error(
      [] {
        (void)build(json{{"flow", "maf"}, {"options", {{"dim", "two"}}}});
      },
      {"'dim'", "wrong type"});
  expect_error([] { (void)RealNVP(FlowOptions(1)); }, {"RealNVP", "'dim'", ">= 2"});
  expect_error([] { (void)MAF(FlowOptions(2).transform("cubic")); }, {"'transform'", "cubic"});
  expect_error([] { (void)NSF(FlowOptions(2).variant("both")); }, {"NSF", "'variant'", "both"});
  expect_error(
      [] {
        (void)build("maf", FlowOptions(2), {0.0, 1.0}, {1.0, -1.0});
      },
      {"standardize", "positive", "-1"});
}

TEST(Standardization, DataUnitsWithTheJacobianIncluded) {
  auto plain = build("maf", FlowOptions(2).layers(1));
  auto scaled = build("maf", FlowOptions(2).layers(1), {10.0, -5.0}, {2.0, 4.0});
  auto x = torch::randn({7, 2});
  auto y = x * torch::tensor({2.0f, 4.0f}) + torch::tensor({10.0f, -5.0f});
  EXPECT_TRUE(
      torch::allclose(scaled->log_prob(y), plain->log_prob(x) - std::log(8.0f), 1e-5, 1e-5));
  EXPECT_NEAR(scaled->sample(20000).mean(0)[0].item<double>(), 10.0, 0.1);
}

}  // namespace
}  // namespace diffeo::flows
