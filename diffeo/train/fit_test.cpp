// train::fit and fit_reverse_kl: they learn, guard against NaN, stop early and
// write their history.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;

// A two-parameter-vector model: y = a * z + b.
Transformed affine_model() {
  return Transformed(StandardNormal(2), Chain({Shift(torch::zeros({2})), Scale(torch::ones({2}))}));
}

TEST(Fit, MaximumLikelihoodOnADataSetFindsMeanAndScale) {
  torch::manual_seed(1);
  auto data = torch::randn({4000, 2}) * torch::tensor({2.0f, 0.5f}) + torch::tensor({1.0f, -3.0f});
  auto model = affine_model();
  auto report = fit(model, data, FitOptions().steps(600).learning_rate(0.05).batch_size(200), {},
                    data.narrow(0, 0, 500));
  auto chain = model->bijector()->as<ChainImpl>();
  auto shift = chain->bijectors()[0]->as<ShiftImpl>()->loc();
  auto scale = chain->bijectors()[1]->as<ScaleImpl>()->scale();
  EXPECT_TRUE(torch::allclose(shift, torch::tensor({1.0f, -3.0f}), 0, 0.1)) << shift;
  EXPECT_TRUE(torch::allclose(scale, torch::tensor({2.0f, 0.5f}), 0, 0.1)) << scale;
  EXPECT_EQ(report.steps, 600);
  EXPECT_LT(report.train_loss.back(), report.train_loss.front() - 1.0);
  EXPECT_EQ(report.validation_loss.back().first, 600);
}

TEST(Fit, NonFiniteStepsAreNeverAppliedAndStopWithAdvice) {
  auto model = affine_model();
  auto before = model->parameters()[0].clone();
  auto data = torch::full({64, 2}, NAN);
  expect_error([&] { fit(model, data, FitOptions().steps(100).max_bad_steps(5)); },
               {"diverged", "5 steps", "learning rate", "NaN"});
  EXPECT_TRUE(torch::equal(model->parameters()[0], before));
  EXPECT_TRUE(torch::isfinite(model->parameters()[1]).all().item<bool>());
}

TEST(Fit, AFarTooHighLearningRateStopsOrRecoversWithFiniteWeights) {
  // Far too high rates: the guard either stops the run, naming the learning
  // rate, or skips the bad steps until it recovers; either way the weights
  // stay finite (those of the last applied step) and the density has no NaN.
  const auto& banana = data::toy("banana");
  int stopped = 0;
  for (double lr : {10.0, 1e3, 1e6}) {
    auto flow = toy_flow("maf", banana, flows::FlowOptions(2).layers(2).hidden({16}), 0);
    try {
      const auto report = fit(flow, toy_sampler(banana), FitOptions().steps(300).learning_rate(lr));
      EXPECT_EQ(report.steps, 300) << "lr " << lr;
    } catch (const Error& e) {
      ++stopped;
      const std::string message = e.what();
      EXPECT_NE(message.find("training diverged"), std::string::npos) << message;
      EXPECT_NE(message.find("lower the learning rate (now " + number_string(lr) + ")"),
                std::string::npos)
          << message;
    }
    for (const auto& p : flow->parameters())
      EXPECT_TRUE(torch::isfinite(p).all().item<bool>()) << "lr " << lr;
    torch::NoGradGuard no_grad;
    const auto x = banana.sample(100, at::make_generator<at::CPUGeneratorImpl>(1)).to(torch::kFloat32);
    EXPECT_FALSE(torch::isnan(flow->log_prob(x)).any().item<bool>()) << "lr " << lr;
  }
  EXPECT_GE(stopped, 1);  // 1e6 cannot be recovered from
}

TEST(Fit, EarlyStoppingRestoresTheBestWeights) {
  torch::manual_seed(2);
  auto data = torch::randn({256, 2});
  auto model = affine_model();
  // Validation data from another distribution: it soon stops improving.
  auto validation = torch::randn({256, 2}) * 3;
  auto report =
      fit(model, data, FitOptions().steps(2000).learning_rate(0.05).validate_every(10).patience(3),
          {}, validation);
  EXPECT_EQ(report.stop_reason, "early stopping");
  EXPECT_LT(report.steps, 2000);
  torch::NoGradGuard no_grad;
  EXPECT_NEAR(-model->log_prob(validation).mean().item<double>(), report.best_validation, 1e-5);
}

TEST(Fit, OnStepSeesEveryAppliedStep) {
  auto model = affine_model();
  std::vector<int64_t> steps;
  fit(model, torch::randn({100, 2}),
      FitOptions().steps(7).validate_every(0).on_step([&](int64_t step, double loss) {
        EXPECT_TRUE(std::isfinite(loss));
        steps.push_back(step);
      }));
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(Fit, ProgressGoesToItsSinkAsLogLines) {
  auto model = affine_model();
  std::vector<std::string> lines;
  const auto report =
      fit(model, torch::randn({100, 2}),
          FitOptions()
              .steps(25)
              .batch_size(50)
              .validate_every(10)
              .progress(true)
              .log_every(10)
              .progress_sink([&](const std::string& line) { lines.push_back(line); }),
          {}, torch::randn({50, 2}));
  // Every log_every steps and the last, whole lines whatever stderr is.
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("step 10/25 loss ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("step 20/25 loss ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("step 25/25 loss ", 0), 0u) << lines[2];
  char validation[64];
  std::snprintf(validation, sizeof validation, " validation %.4f\n",
                report.validation_loss[0].second);
  EXPECT_EQ(lines[0].substr(lines[0].size() - std::string(validation).size()), validation);
  // Silent without progress.
  lines.clear();
  fit(model, torch::randn({100, 2}),
      FitOptions().steps(5).progress_sink([&](const std::string& line) { lines.push_back(line); }));
  EXPECT_TRUE(lines.empty());
}

TEST(Fit, HistoryIsWrittenAsJsonOrCsv) {
  auto model = affine_model();
  auto report = fit(model, torch::randn({100, 2}), FitOptions().steps(20).validate_every(10), {},
                    torch::randn({50, 2}));
  const auto dir = std::filesystem::temp_directory_path();
  const auto json_path = (dir / "diffeo_fit_history.json").string();
  const auto csv_path = (dir / "diffeo_fit_history.csv").string();
  report.write(json_path);
  report.write(csv_path);
  std::ifstream json_in(json_path), csv_in(csv_path);
  auto parsed = json::parse(json_in);
  EXPECT_EQ(parsed["train_loss"].size(), 20u);
  EXPECT_EQ(parsed["validation_loss"].size(), 2u);
  std::string header, line;
  std::getline(csv_in, header);
  EXPECT_EQ(header, "step,train_loss,validation_loss");
  int rows = 0;
  while (std::getline(csv_in, line)) ++rows;
  EXPECT_EQ(rows, 20);
  std::filesystem::remove(json_path);
  std::filesystem::remove(csv_path);
}

TEST(FitReverseKL, MatchesAnUnnormalisedGaussianTarget) {
  torch::manual_seed(3);
  auto model = affine_model();
  // log p~(x) = -|x - m|^2 / (2 s^2) elementwise: Z = 2 pi s1 s2.
  auto m = torch::tensor({2.0f, -1.0f}), s = torch::tensor({0.5f, 1.5f});
  auto target = [&](const torch::Tensor& x) { return (-0.5 * ((x - m) / s).pow(2)).sum(-1); };
  auto report = fit_reverse_kl(model, target, FitOptions().steps(800).learning_rate(0.05));
  // The loss is KL - log Z: at the optimum KL = 0.
  EXPECT_NEAR(report.best_validation, -std::log(2 * M_PI * 0.5 * 1.5), 0.02);
}

TEST(Fit, BadOptionsAndData) {
  auto model = affine_model();
  auto data = torch::randn({10, 2});
  expect_error([&] { fit(model, data, FitOptions().steps(0)); }, {"fit", "'steps'", "0"});
  expect_error([&] { fit(model, data, FitOptions().batch_size(-1)); }, {"'batch_size'", "-1"});
  expect_error([&] { fit(model, data, FitOptions().batch_size(0)); }, {"'batch_size'", "0"});
  expect_error([&] { fit(model, data, FitOptions().learning_rate(0)); }, {"'learning_rate'"});
  expect_error([&] { fit(model, data, FitOptions().schedule("linear")); }, {"'schedule'"});
  expect_error([&] { fit(model, torch::Tensor(), FitOptions()); }, {"'data'", "undefined"});
  expect_error(
      [&] {
        fit(model, data, FitOptions(), torch::randn({3, 1}));
      },
      {"'context'", "3 rows", "10"});
  expect_error([&] { fit(model, data, FitOptions(), torch::zeros({10, 1}, torch::kMeta)); },
               {"'context'", "meta", "cpu", "one device"});
}

TEST(MaximumLikelihood, ValidationOfAnyLogDensityMatchesTheDistributionsAndSplitsOverRanks) {
  // A module with a log density (as ConditionalHINT is) validates as the
  // Distribution does: in chunks (7 rows here), and a 2-rank split adds up.
  auto model = affine_model();
  const auto held_out = torch::randn({40, 2}, at::make_generator<at::CPUGeneratorImpl>(3));
  MaximumLikelihood as_distribution(model);
  as_distribution.validate_on(held_out, {}, 7);
  MaximumLikelihood as_module(model.ptr(), [&](const torch::Tensor& x, const torch::Tensor& c) {
    return model->log_prob(x, c);
  });
  as_module.validate_on(held_out, {}, 7);
  const auto whole = as_distribution.validation_sum(0, 1);
  EXPECT_EQ(whole.rows, 40);
  EXPECT_NEAR(whole.sum, -model->log_prob(held_out).to(torch::kFloat64).sum().item<double>(), 1e-4);
  const auto module_whole = as_module.validation_sum(0, 1);
  EXPECT_EQ(module_whole.rows, 40);
  EXPECT_NEAR(module_whole.sum, whole.sum, 1e-9 * std::abs(whole.sum));
  const auto first = as_module.validation_sum(0, 2), second = as_module.validation_sum(1, 2);
  EXPECT_EQ(first.rows + second.rows, 40);
  EXPECT_NEAR(first.sum + second.sum, whole.sum, 1e-9 * std::abs(whole.sum));
}

}  // namespace
}  // namespace diffeo::train
