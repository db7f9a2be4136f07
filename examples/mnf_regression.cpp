// The MNF paper's toy regression (after Hernandez-Lobato & Adams 2015): 20
// points x ~ U(-4, 4), y = x^3 + N(0, 3^2); a network with one hidden layer of
// 100 ReLU units as a point estimate (MAP), a mean-field Gaussian (Bayes by
// backprop) and a multiplicative normalizing flow posterior.  Draws each
// predictive mean with a +-3 sd band against the truth on [-6, 6], and prints
// the predictive sd on and off the data and the test log-likelihood.
//
// usage: mnf_regression [--steps N] [--out FILE.png] [--seed S]

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "diffeo/bnn/elbo.h"
#include "diffeo/bnn/network.h"
#include "diffeo/bnn/prediction.h"
#include "diffeo/bnn/training.h"
#include "diffeo/core/error.h"
#include "diffeo/plot/figure.h"

namespace bnn = diffeo::bnn;
namespace dp = diffeo::plot;

namespace {

// The network sees x / 4 and y / 50, so inputs and targets are of order 1.
constexpr double kXScale = 4, kYScale = 50, kNoise = 3;

std::pair<torch::Tensor, torch::Tensor> cubic(int64_t n, double low, double high) {
  auto x = torch::rand({n, 1}, torch::kFloat64) * (high - low) + low;
  return {x, x.pow(3) + kNoise * torch::randn({n, 1}, torch::kFloat64)};
}

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

struct Predictive {
  torch::Tensor mean, sd;  // original units, [n]
};

// Predictive mean and sd (the spread of the network's draws and the noise).
Predictive predict(bnn::BayesianNet& net, const torch::Tensor& x) {
  auto draws = bnn::sample_outputs(net, (x / kXScale).to(torch::kFloat32), 500)
                   .squeeze(-1).to(torch::kFloat64) * kYScale;
  auto variance = draws.var(0, /*unbiased=*/false) + kNoise * kNoise;
  return {draws.mean(0), variance.sqrt()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MNF toy regression: predictive bands of MAP, Bayes by backprop and MNF"};
  int64_t steps = 5000;
  uint64_t seed = 1;
  std::string out = "docs/img/mnf_regression.png";
  app.add_option("--steps", steps, "training steps per network (full batch of 20)")
      ->check(CLI::PositiveNumber);
  app.add_option("--out", out, "the figure (PNG)");
  app.add_option("--seed", seed, "seed of the data and the training");
  CLI11_PARSE(app, argc, argv);
  try {
    torch::manual_seed(seed);
    auto [x, y] = cubic(20, -4, 4);
    auto [x_test, y_test] = cubic(2000, -4, 4);
    auto grid = torch::linspace(-6, 6, 241, torch::kFloat64).unsqueeze(1);
    const auto likelihood = bnn::gaussian_likelihood(kNoise / kYScale);

    dp::Figure figure(1, 3, 1500, 480, "y = x#u3#d + N(0, 3#u2#d): predictive mean +- 3 sd");
    std::printf("%-12s %8s %8s %8s %12s %8s\n", "method", "sd(0)", "sd(+-4)", "sd(+-6)",
                "test loglik", "seconds");
    int column = 0;
    for (auto posterior : {bnn::Posterior::kPoint, bnn::Posterior::kMeanField,
                           bnn::Posterior::kMNF}) {
      torch::manual_seed(seed + 100);
      auto net = bnn::mlp({1, 100, 1}, bnn::NetworkOptions(posterior));
      auto report = bnn::train(net, (x / kXScale).to(torch::kFloat32),
                               (y / kYScale).to(torch::kFloat32).squeeze(1), likelihood,
                               bnn::TrainOptions().steps(steps).batch_size(20).learning_rate(1e-2));
      auto on_grid = predict(net, grid);
      auto at = [&](double v) {
        auto p = predict(net, torch::tensor({{v}, {-v}}, torch::kFloat64));
        return p.sd.mean().item<double>();
      };
      auto test = predict(net, x_test);
      auto z = (y_test.squeeze(1) - test.mean) / test.sd;
      const double loglik =
          (-0.5 * z.square() - test.sd.log() - 0.5 * std::log(2 * M_PI)).mean().item<double>();
      const std::string name = posterior == bnn::Posterior::kPoint       ? "MAP"
                               : posterior == bnn::Posterior::kMeanField ? "Bayes by backprop"
                                                                          : "MNF";
      std::printf("%-12s %8.2f %8.2f %8.2f %12.3f %8.1f\n", bnn::posterior_name(posterior).c_str(),
                  at(0), at(4), at(6), loglik, report.seconds);

      dp::Line band{values(grid), values(on_grid.mean), "predictive mean +- 3 sd"};
      band.lower = values(on_grid.mean - 3 * on_grid.sd);
      band.upper = values(on_grid.mean + 3 * on_grid.sd);
      dp::Line truth{values(grid), values(grid.pow(3)), "x#u3#d"};
      dp::Line data{values(x), values(y), "data"};
      data.markers = true;
      figure.lines(0, column++, {band, truth, data}, {name, "x", "y"});
    }
    std::filesystem::path path(out);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    figure.save(out);
    std::printf("wrote %s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnf_regression: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
