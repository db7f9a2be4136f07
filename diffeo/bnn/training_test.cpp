// Networks, the ELBO, training and the prediction scores.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::bnn {
namespace {

using diffeo::testing::expect_error;

TEST(BayesianNet, BuildsMlpAndLeNetForEveryPosterior) {
  torch::manual_seed(0);
  for (auto posterior : {Posterior::kPoint, Posterior::kMeanField, Posterior::kMNF}) {
    auto net = mlp({5, 16, 16, 3}, NetworkOptions(posterior));
    EXPECT_EQ(net->layers().size(), 3u);
    EXPECT_EQ(net->forward(torch::randn({4, 5})).sizes(), (std::vector<int64_t>{4, 3}));
    auto lenet = lenet5({1, 28, 28}, 10, NetworkOptions(posterior));
    EXPECT_EQ(lenet->layers().size(), 4u);
    EXPECT_EQ(lenet->layers()[2]->geometry().in, 800);
    EXPECT_EQ(lenet->forward(torch::randn({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
    EXPECT_TRUE(std::isfinite(lenet->kl().item<double>()));
    EXPECT_EQ(parse_posterior(posterior_name(posterior)), posterior);
  }
  expect_error([] { mlp({5}, NetworkOptions()); }, {"bnn::mlp", "'sizes'", "got 1"});
  expect_error([] { mlp({5, 3}, NetworkOptions().activation("swish")); }, {"swish"});
  expect_error([] { lenet5({28, 28}, 10, NetworkOptions()); }, {"'image_shape'", "[28, 28]"});
}

TEST(BayesianNet, PointNetworkIsDeterministicAndBayesianOnesAreNot) {
  torch::manual_seed(1);
  auto x = torch::randn({8, 3});
  auto point = mlp({3, 10, 2}, NetworkOptions(Posterior::kPoint));
  auto draws = sample_outputs(point, x, 3);
  EXPECT_EQ(draws.sizes(), (std::vector<int64_t>{3, 8, 2}));
  EXPECT_TRUE(torch::equal(draws[0], draws[2]));
  auto mnf = mlp({3, 10, 2}, NetworkOptions(Posterior::kMNF));
  auto noisy = sample_outputs(mnf, x, 3, /*chunk=*/3);
  EXPECT_GT((noisy[0] - noisy[1]).abs().max().item<double>(), 1e-3);
  auto p = predictive_probabilities(mnf, x, 4);
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({8}), 1e-5, 1e-5));
}

TEST(Elbo, IsTheMeanNllPlusTheWeightedKlPerDataPoint) {
  torch::manual_seed(2);
  auto net = mlp({2, 4, 3}, NetworkOptions(Posterior::kPoint));
  auto x = torch::randn({5, 2});
  auto y = torch::tensor({0, 2, 1, 1, 0});
  auto terms = elbo(net, x, y, categorical_likelihood(), 100, 0.5);
  auto expected_nll = torch::nn::functional::cross_entropy(net->forward(x), y);
  EXPECT_NEAR(terms.nll.item<double>(), expected_nll.item<double>(), 1e-5);
  EXPECT_NEAR(terms.loss.item<double>(),
              terms.nll.item<double>() + 0.5 * terms.kl.item<double>() / 100, 1e-5);
  auto gauss = gaussian_likelihood(2.0)(torch::tensor({{1.0f}}), torch::tensor({3.0f}));
  EXPECT_NEAR(gauss.item<double>(), -0.5 - std::log(2.0) - 0.5 * std::log(2 * M_PI), 1e-5);
  expect_error([&] { elbo(net, x, torch::tensor({0, 3, 1, 1, 0}), categorical_likelihood(), 100); },
               {"targets must lie in [0, 3)"});
  expect_error([&] { elbo(net, x, y, categorical_likelihood(), 100, 1.5); }, {"'kl_weight'", "1.5"});
  expect_error([] { gaussian_likelihood(0); }, {"'noise_std'"});
}

// y = x^3 + N(0, 3^2) on 20 points, scaled by 1/50 as the example does.
std::pair<torch::Tensor, torch::Tensor> cubic_data(int64_t n) {
  auto x = torch::rand({n, 1}) * 8 - 4;
  auto y = (x.pow(3) + 3 * torch::randn({n, 1})) / 50;
  return {x / 4, y.squeeze(1)};
}

TEST(Training, MnfElboImprovesOnTheCubicToyAndFitsTheData) {
  torch::manual_seed(3);
  auto [x, y] = cubic_data(20);
  auto net = mlp({1, 100, 1}, NetworkOptions(Posterior::kMNF));
  auto likelihood = gaussian_likelihood(3.0 / 50);
  auto report = train(net, x, y, likelihood,
                      TrainOptions().steps(600).batch_size(20).learning_rate(1e-2).seed(3));
  ASSERT_EQ(report.steps, 600);
  auto mean = [](const std::vector<double>& v, size_t begin, size_t end) {
    double s = 0;
    for (size_t i = begin; i < end; ++i) s += v[i];
    return s / double(end - begin);
  };
  const double first = mean(report.loss, 0, 50), last = mean(report.loss, 550, 600);
  EXPECT_LT(last, first - 1.0) << "negative ELBO per point: " << first << " -> " << last;
  // The predictive mean follows the data: RMS error well under the spread of y.
  auto predicted = sample_outputs(net, x, 50).mean(0).squeeze(1);
  const double rms = (predicted - y).square().mean().sqrt().item<double>();
  EXPECT_LT(rms, 0.3 * y.std().item<double>()) << rms;
}

TEST(Training, EveryPosteriorLearnsTwoBlobs) {
  for (auto posterior : {Posterior::kPoint, Posterior::kMeanField, Posterior::kMNF}) {
    torch::manual_seed(4);
    auto labels = torch::randint(0, 2, {400}, torch::kLong);
    auto x = torch::randn({400, 2}) * 0.6 + (2.0 * labels.to(torch::kFloat) - 1).unsqueeze(1);
    auto net = mlp({2, 16, 2}, NetworkOptions(posterior));
    train(net, x, labels, categorical_likelihood(),
          TrainOptions().steps(300).batch_size(50).learning_rate(1e-2));
    auto scores = classification_scores(predictive_probabilities(net, x, 10), labels);
    EXPECT_LT(scores.error, 0.08) << posterior_name(posterior);
    EXPECT_LT(scores.nll, 0.3) << posterior_name(posterior);
  }
}

TEST(Training, RefusesBadDataAndStopsOnNonFiniteLosses) {
  torch::manual_seed(5);
  auto net = mlp({2, 4, 2}, NetworkOptions(Posterior::kMeanField));
  auto x = torch::randn({10, 2});
  auto y = torch::zeros({10}, torch::kLong);
  expect_error([&] { train(net, x, y.slice(0, 0, 9), categorical_likelihood(), TrainOptions()); },
               {"bnn::train", "same number of rows"});
  expect_error([&] { train(net, x, y, categorical_likelihood(), TrainOptions().batch_size(11)); },
               {"'batch_size'", "11", "10"});
  expect_error([&] { train(net, x, y, categorical_likelihood(), TrainOptions().steps(0)); },
               {"'steps'"});
  auto bad = x.clone();
  bad[3][1] = NAN;
  expect_error([&] { train(net, bad, y, categorical_likelihood(), TrainOptions()); }, {"'x'", "finite"});
  auto exploding = [](const torch::Tensor& out, const torch::Tensor&) {
    return out.sum(1) * std::numeric_limits<double>::infinity();
  };
  expect_error([&] { train(net, x, y, exploding, TrainOptions().batch_size(5).max_bad_steps(3)); },
               {"3 steps in a row", "non-finite"});
}

TEST(ClassificationScores, MatchHandComputedValues) {
  auto p = torch::tensor({{0.95, 0.05}, {0.65, 0.35}, {0.25, 0.75}, {0.15, 0.85}, {0.1, 0.9}},
                         torch::kFloat64);
  auto labels = torch::tensor({0, 1, 1, 1, 0});
  auto s = classification_scores(p, labels, 10);
  EXPECT_NEAR(s.error, 0.4, 1e-12);
  EXPECT_NEAR(s.nll,
              -(std::log(0.95) + std::log(0.35) + std::log(0.75) + std::log(0.85) + std::log(0.1)) / 5,
              1e-12);
  // Bins by confidence: [0.9, 1) holds 0.95 (right) and 0.9 (wrong): |1/2 - 0.925| * 2;
  // then 0.65 (wrong), 0.75 and 0.85 (right) alone: |0 - 0.65|, |1 - 0.75|, |1 - 0.85|.
  EXPECT_NEAR(s.ece, (2 * 0.425 + 0.65 + 0.25 + 0.15) / 5, 1e-12);
  auto h = predictive_entropy(torch::tensor({{0.25, 0.25, 0.25, 0.25}, {1.0, 0.0, 0.0, 0.0}}));
  EXPECT_NEAR(h[0].item<double>(), std::log(4.0), 1e-6);
  EXPECT_NEAR(h[1].item<double>(), 0.0, 1e-12);
  expect_error([] { predictive_entropy(torch::tensor({{0.5, 0.6}})); }, {"sum to 1"});
  expect_error([&] { classification_scores(p, torch::tensor({0, 1, 2, 1, 0}), 10); },
               {"'labels'", "[0, 2)"});
}

}  // namespace
}  // namespace diffeo::bnn
