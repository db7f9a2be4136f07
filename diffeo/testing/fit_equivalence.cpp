#include "diffeo/testing/fit_equivalence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace diffeo::testing {

flows::Flow equivalence_flow(const std::string& name, const torch::Device& device) {
  auto flow = flows::build(name, flows::FlowOptions(2).layers(3).hidden({16}).seed(4));
  flow->to(device, torch::kFloat64);
  return flow;
}

std::pair<torch::Tensor, torch::Tensor> banana_rows() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto z = torch::randn({700, 2}, gen, torch::kFloat64);
  auto x = torch::stack({z.select(1, 0), z.select(1, 1) * 0.5 + 0.4 * z.select(1, 0).pow(2)}, 1);
  return {x.narrow(0, 0, 600), x.narrow(0, 600, 100)};
}

train::FitOptions equivalence_options() {
  return train::FitOptions().steps(100).batch_size(64).learning_rate(3e-3).validate_every(20).seed(
      11);
}

void expect_weights_close(const torch::nn::Module& got, const torch::nn::Module& want, double rtol,
                          const std::string& what) {
  const auto g = got.named_parameters(), w = want.named_parameters();
  ASSERT_EQ(g.size(), w.size()) << what;
  double scale = 0;
  for (const auto& p : w) scale = std::max(scale, p.value().abs().max().item<double>());
  for (size_t i = 0; i < g.size(); ++i) {
    const auto& reference = w[i].value();
    const double difference =
        (g[i].value().to(reference.device()) - reference).abs().max().item<double>();
    EXPECT_LE(difference, rtol * scale)
        << what << ": " << g[i].key() << " differs by " << difference;
  }
}

void expect_same_losses(const train::FitReport& got, const train::FitReport& want,
                        const std::string& what) {
  ASSERT_EQ(got.train_loss.size(), want.train_loss.size()) << what;
  for (size_t i = 0; i < got.train_loss.size(); ++i)
    EXPECT_NEAR(got.train_loss[i], want.train_loss[i], 1e-9 * std::abs(want.train_loss[i]))
        << what << ", step " << i + 1;
  ASSERT_EQ(got.validation_loss.size(), want.validation_loss.size()) << what;
  for (size_t i = 0; i < got.validation_loss.size(); ++i)
    EXPECT_NEAR(got.validation_loss[i].second, want.validation_loss[i].second, 1e-9) << what;
}

}  // namespace diffeo::testing
