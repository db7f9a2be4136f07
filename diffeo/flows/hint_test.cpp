// HINT: the unconditional bijector through the property harness and a short
// fit; the conditional two-lane model's block-triangular structure, its
// densities (normalised, consistent with its samples) and the posterior of a
// linear-Gaussian inverse problem against the closed form.

#include "diffeo/flows/hint.h"

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/testing/bijector_harness.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/goodness_of_fit.h"

namespace diffeo::flows {
namespace {

using testing::expect_error;

// Adds N(0, amount^2) noise to every parameter: the builders start with zero
// last layers, at which every coupling is the identity.
void perturb(torch::nn::Module& module, uint64_t seed, double amount = 0.3) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.add_(torch::randn_like(p) * amount);
}

std::vector<testing::BijectorCase> hint_flow_cases() {
  std::vector<testing::BijectorCase> cases;
  for (int64_t dim : {1, 3, 5})
    for (int64_t context : {0, 2})
      cases.push_back({"HINT" + std::to_string(dim) + (context ? "WithContext" : ""),
                       [dim, context] {
                         torch::manual_seed(dim);
                         auto b = hint_bijector(FlowOptions(dim)
                                                    .layers(2)
                                                    .hidden({16, 16})
                                                    .activation("tanh")
                                                    .context_features(context)
                                                    .seed(dim));
                         perturb(*b, 60 + dim);
                         return b;
                       },
                       {dim},
                       {},
                       {},
                       context});
  return cases;
}

class HINTFlowProperties : public ::testing::TestWithParam<testing::BijectorCase> {};

TEST_P(HINTFlowProperties, BijectorPassesTheHarness) { testing::check_all(GetParam()); }

INSTANTIATE_TEST_SUITE_P(HINT, HINTFlowProperties, ::testing::ValuesIn(hint_flow_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HINTFlow, BlocksAndSeeds) {
  auto members = [](const FlowOptions& options) {
    auto chain = std::dynamic_pointer_cast<ChainImpl>(hint_bijector(options).ptr());
    return chain ? chain->bijectors().size() : 0;
  };
  EXPECT_EQ(members(FlowOptions(4).layers(3)), 3u);  // blocks Chain({Householder, coupling})
  EXPECT_EQ(members(FlowOptions(4)), 6u);            // the default
  auto x = torch::randn({5, 4});
  // The couplings start at the identity, the Householder maps at seeded rotations.
  auto a = hint_bijector(FlowOptions(4).layers(2).seed(1));
  auto b = hint_bijector(FlowOptions(4).layers(2).seed(1));
  auto c = hint_bijector(FlowOptions(4).layers(2).seed(2));
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  EXPECT_FALSE(torch::allclose(a->forward(x), c->forward(x)));
  EXPECT_NEAR(a->forward(x).norm().item<double>(), x.norm().item<double>(), 1e-4);
  expect_error([] { (void)hint_bijector(FlowOptions(0)); }, {"HINT", "'dim'", "0"});
}

// Both ways for y to reach the x lane (ConditionalHINTOptions::conditioning).
const std::vector<std::string> kConditionings = {"every_coupling", "external"};

// A float64 conditional HINT with every parameter perturbed.
ConditionalHINT perturbed_model(int64_t x_dim, int64_t y_dim,
                                const std::string& conditioning = "every_coupling") {
  auto model = ConditionalHINT(ConditionalHINTOptions(x_dim, y_dim)
                                   .layers(2)
                                   .hidden({16, 16})
                                   .y_hidden({8, 8})
                                   .external_hidden({12, 12, 12})
                                   .conditioning(conditioning)
                                   .activation("tanh")
                                   .seed(x_dim + 10 * y_dim));
  perturb(*model, 70 + x_dim);
  model->to(torch::kFloat64);
  return model;
}

TEST(ConditionalHINT, LatentOfYIgnoresXAndTheJacobianIsBlockTriangular) {
 for (const auto& conditioning : kConditionings) {
  SCOPED_TRACE(conditioning);
  auto model = perturbed_model(3, 2, conditioning);
  auto x = torch::randn({4, 3}, torch::kFloat64), y = torch::randn({4, 2}, torch::kFloat64);
  auto a = model->encode(x, y);
  auto b = model->encode(torch::randn({4, 3}, torch::kFloat64), y);
  EXPECT_TRUE(torch::equal(a.z_y, b.z_y));
  EXPECT_TRUE(torch::equal(a.log_det_y, b.log_det_y));
  auto c = model->encode(x, torch::randn({4, 2}, torch::kFloat64));
  EXPECT_GT((a.z_x - c.z_x).abs().max().item<double>(), 1e-3);  // the x lane does read y

  // The joint Jacobian of (x, y) -> (z_x, z_y) at one point: d z_y / d x == 0
  // exactly and log|det| == log_det_x + log_det_y.
  auto w = torch::cat({x[0], y[0]}).requires_grad_(true);
  auto latent = model->encode(w.narrow(0, 0, 3), w.narrow(0, 3, 2));
  auto z = torch::cat({latent.z_x, latent.z_y});
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < 5; ++i)
    rows.push_back(torch::autograd::grad({z[i]}, {w}, {}, /*retain_graph=*/true)[0]);
  auto jacobian = torch::stack(rows);
  EXPECT_EQ(jacobian.narrow(0, 3, 2).narrow(1, 0, 3).abs().max().item<double>(), 0.0);
  EXPECT_GT(jacobian.narrow(0, 0, 3).narrow(1, 3, 2).abs().max().item<double>(), 1e-3);
  EXPECT_NEAR(std::get<1>(torch::linalg_slogdet(jacobian)).item<double>(),
              (latent.log_det_x + latent.log_det_y).item<double>(), 1e-10);
 }
}

TEST(ConditionalHINT, DecodeInvertsEncodeAndDensitiesAdd) {
 for (const auto& conditioning : kConditionings) {
  SCOPED_TRACE(conditioning);
  auto model = perturbed_model(3, 4, conditioning);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 5, 3}, torch::kFloat64), y = torch::randn({2, 5, 4}, torch::kFloat64);
  auto latent = model->encode(x, y);
  auto [x_again, y_again] = model->decode(latent.z_x, latent.z_y);
  EXPECT_TRUE(torch::allclose(x_again, x, 0, 1e-10));
  EXPECT_TRUE(torch::allclose(y_again, y, 0, 1e-10));
  auto joint = model->log_prob(x, y);
  EXPECT_EQ(joint.sizes(), torch::IntArrayRef({2, 5}));
  EXPECT_TRUE(
      torch::allclose(joint, model->log_prob_y(y) + model->log_prob_x_given_y(x, y), 0, 1e-12));

  auto draw = [&](uint64_t seed) {
    return model->sample_joint(7, at::make_generator<at::CPUGeneratorImpl>(seed));
  };
  auto [xs, ys] = draw(3);
  EXPECT_EQ(xs.sizes(), torch::IntArrayRef({7, 3}));
  EXPECT_EQ(ys.sizes(), torch::IntArrayRef({7, 4}));
  EXPECT_TRUE(torch::equal(draw(3).first, xs));
  EXPECT_FALSE(torch::equal(draw(4).first, xs));
  auto posterior = model->sample_posterior(y[0][0], 6, at::make_generator<at::CPUGeneratorImpl>(1));
  EXPECT_EQ(posterior.sizes(), torch::IntArrayRef({6, 3}));
  EXPECT_TRUE(torch::equal(
      model->sample_posterior(y[0][0].unsqueeze(0), 6, at::make_generator<at::CPUGeneratorImpl>(1)),
      posterior));
 }
}

// Box of +-k standard deviations around samples [n, 2].
data::PlotRange box_around(const torch::Tensor& samples, double k) {
  auto mean = samples.mean(0), sd = samples.std(0);
  auto at = [&](int64_t i, double sign) { return (mean[i] + sign * k * sd[i]).item<double>(); };
  return {at(0, -1), at(0, 1), at(1, -1), at(1, 1)};
}

// p(x | y*) (x_dim 2) and the joint p(x, y) (x_dim = y_dim = 1) integrate to 1
// and match the histograms of sample_posterior and sample_joint.
TEST(ConditionalHINT, DensitiesAreNormalisedAndMatchTheSamples) {
 for (const auto& conditioning : kConditionings) {
  SCOPED_TRACE(conditioning);
  torch::NoGradGuard no_grad;
  auto posterior_model = perturbed_model(2, 3, conditioning);
  auto y_star = torch::tensor({0.5, -1.0, 1.5}, torch::kFloat64);
  auto conditional = [&](const torch::Tensor& x) {
    return posterior_model->log_prob_x_given_y(x, y_star.expand({x.size(0), 3}));
  };
  auto draws =
      posterior_model->sample_posterior(y_star, 20000, at::make_generator<at::CPUGeneratorImpl>(8));
  auto chi2 = testing::chi_square(conditional, draws, box_around(draws, 4), 20, 8);
  EXPECT_LT(chi2.statistic, chi2.threshold()) << chi2.statistic << " on " << chi2.dof << " dof";
  EXPECT_GT(chi2.coverage, 0.97);
  EXPECT_NEAR(testing::integrate(conditional, box_around(draws, 10), 200), 1.0, 5e-3);

  auto joint_model = perturbed_model(1, 1, conditioning);
  auto joint = [&](const torch::Tensor& xy) {
    return joint_model->log_prob(xy.narrow(1, 0, 1), xy.narrow(1, 1, 1));
  };
  auto [xs, ys] = joint_model->sample_joint(20000, at::make_generator<at::CPUGeneratorImpl>(9));
  auto pairs = torch::cat({xs, ys}, 1);
  auto joint_chi2 = testing::chi_square(joint, pairs, box_around(pairs, 4), 20, 8);
  EXPECT_LT(joint_chi2.statistic, joint_chi2.threshold())
      << joint_chi2.statistic << " on " << joint_chi2.dof << " dof";
  EXPECT_NEAR(testing::integrate(joint, box_around(pairs, 10), 200), 1.0, 5e-3);
  // The y marginal in 1-D by the midpoint rule.
  const double lo = (ys.mean() - 10 * ys.std()).item<double>();
  const double hi = (ys.mean() + 10 * ys.std()).item<double>();
  const int64_t n = 20000;
  const double h = (hi - lo) / n;
  auto grid = torch::linspace(lo + h / 2, hi - h / 2, n, torch::kFloat64).unsqueeze(1);
  EXPECT_NEAR((joint_model->log_prob_y(grid).exp().sum() * h).item<double>(), 1.0, 1e-4);
 }
}

// x ~ N(0, I_2), y = A x + N(0, sigma^2 I_2).  The posterior is Gaussian with
// covariance S = (I + A^T A / sigma^2)^-1 and mean S A^T y* / sigma^2.
TEST(ConditionalHINT, LearnsTheLinearGaussianPosterior) {
  const auto A = torch::tensor({{1.0, 0.6}, {-0.4, 0.9}}, torch::kFloat64);
  const double sigma = 0.4;
  const auto y_star = torch::tensor({0.8, -0.5}, torch::kFloat64);
  const auto eye = torch::eye(2, torch::kFloat64);
  const auto cov = torch::inverse(eye + torch::matmul(A.t(), A) / (sigma * sigma));
  const auto mean = torch::matmul(cov, torch::matmul(A.t(), y_star)) / (sigma * sigma);

  for (const auto& conditioning : kConditionings) {
  SCOPED_TRACE(conditioning);
  auto model = ConditionalHINT(
      ConditionalHINTOptions(2, 2).layers(2).hidden({32, 32}).conditioning(conditioning).seed(1));
  // Mean and covariance errors of n posterior draws at y*.
  auto errors = [&](int64_t n) {
    torch::NoGradGuard no_grad;
    auto draws = model
                     ->sample_posterior(y_star.to(torch::kFloat32), n,
                                        at::make_generator<at::CPUGeneratorImpl>(12))
                     .to(torch::kFloat64);
    auto centred = draws - draws.mean(0);
    auto sample_cov = torch::matmul(centred.t(), centred) / (n - 1);
    return std::make_pair((draws.mean(0) - mean).abs().max().item<double>(),
                          (sample_cov - cov).abs().max().item<double>());
  };
  const double mean_tolerance = 0.08, cov_tolerance = 0.03;
  // Untrained, the model samples (a rotation of) the prior: it must fail both.
  auto [mean_before, cov_before] = errors(5000);
  EXPECT_GT(mean_before, mean_tolerance);
  EXPECT_GT(cov_before, cov_tolerance);

  auto a = A.to(torch::kFloat32);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(5e-3));
  for (int step = 0; step < 400; ++step) {
    auto x = torch::randn({256, 2}, generator);
    auto y = torch::matmul(x, a.t()) + sigma * torch::randn({256, 2}, generator);
    auto loss = -model->log_prob(x, y).mean();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  auto [mean_error, cov_error] = errors(5000);
  EXPECT_LT(mean_error, mean_tolerance) << "posterior mean " << mean;
  EXPECT_LT(cov_error, cov_tolerance) << "posterior covariance " << cov;
  }
}

TEST(ConditionalHINT, RefusesBadArgumentsAndKeepsTheGlobalGenerator) {
  expect_error([] { ConditionalHINT(ConditionalHINTOptions(0, 2)); },
               {"ConditionalHINT", "'x_dim'", "0"});
  expect_error([] { ConditionalHINT(ConditionalHINTOptions(2, 2).conditioning("late")); },
               {"ConditionalHINT", "'conditioning'", "\"every_coupling\"", "\"external\"", "late"});
  expect_error([] { ConditionalHINT(ConditionalHINTOptions(2, 2).layers(0)); },
               {"ConditionalHINT", "'layers'", "0"});
  auto model = ConditionalHINT(ConditionalHINTOptions(2, 3).layers(1));
  expect_error(
      [&] {
        model->log_prob(torch::randn({4, 2}), torch::randn({5, 3}));
      },
      {"ConditionalHINT", "'x'", "[4, 2]", "'y'", "[5, 3]", "batch shape"});
  expect_error(
      [&] {
        model->log_prob(torch::randn({4, 3}), torch::randn({4, 3}));
      },
      {"ConditionalHINT", "'x'", "3", "2"});
  expect_error(
      [&] {
        model->sample_posterior(torch::randn({2, 3}), 5);
      },
      {"ConditionalHINT", "'y'", "[3] or [1, 3]", "[2, 3]"});
  expect_error([&] { model->sample_joint(0); }, {"ConditionalHINT", "'n'", "0"});

  // The seed fixes the initial weights without disturbing the global generator.
  torch::manual_seed(5);
  auto expected = torch::rand({3});
  torch::manual_seed(5);
  auto a = ConditionalHINT(ConditionalHINTOptions(2, 3).layers(2).seed(4));
  EXPECT_TRUE(torch::equal(torch::rand({3}), expected));
  auto b = ConditionalHINT(ConditionalHINTOptions(2, 3).layers(2).seed(4));
  auto c = ConditionalHINT(ConditionalHINTOptions(2, 3).layers(2).seed(5));
  bool differs = false;
  ASSERT_EQ(a->parameters().size(), b->parameters().size());
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i])) << i;
    differs = differs || !torch::equal(a->parameters()[i], c->parameters()[i]);
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace diffeo::flows
