// Bernstein flows, the reference project's figures and the regression
// experiment of docs/results.md:
//   bernstein_stages.png       a univariate fit to a bimodal sample: the density
//                              after each stage of the chain (data -> latent)
//   bernstein_mvn_3d.png       the base N(0, I) and a fitted independent bivariate
//                              Bernstein flow as 3-D surfaces
//   bernstein_conditional.png  a transformation model p(y | x): data | model
// and a table: test NLL of Bernstein transformation models of order 4-32 and of
// Gaussian regression (same MLP) against the true conditional entropy.
//
//   bernstein_flow [--out DIR] [--steps N]

#include <diffeo/diffeo.h>
#include <diffeo/plot/plot.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

namespace df = diffeo;

namespace {

// y = x +- 1.5 + N(0, 0.3^2) with x ~ U(-2, 2): bimodal given x.
std::pair<torch::Tensor, torch::Tensor> regression_data(int64_t n, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto x = torch::rand({n, 1}, g) * 4 - 2;
  auto sign = torch::randint(0, 2, {n, 1}, g).to(torch::kFloat) * 2 - 1;
  return {x + 1.5 * sign + 0.3 * torch::randn({n, 1}, g), x};
}

torch::Tensor true_conditional_log_prob(const torch::Tensor& y, const torch::Tensor& x) {
  auto normal = [](const torch::Tensor& z) { return -0.5 * z * z - 0.5 * std::log(2 * M_PI); };
  auto a = normal((y - x - 1.5) / 0.3), b = normal((y - x + 1.5) / 0.3);
  return (torch::logaddexp(a, b) + std::log(0.5) - std::log(0.3)).squeeze(-1);
}

df::plot::Line density_curve(const torch::Tensor& samples, double low, double high,
                             const std::string& label) {
  const int64_t bins = 80;
  auto counts = torch::histc(samples.to(torch::kFloat64), bins, low, high);
  const double width = (high - low) / bins;
  counts = counts / (samples.numel() * width);
  df::plot::Line line{{}, {}, label};
  for (int64_t i = 0; i < bins; ++i) {
    line.x.push_back(low + (i + 0.5) * width);
    line.y.push_back(counts[i].item<double>());
  }
  return line;
}

void stages_figure(int64_t steps, const std::string& path) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(1);
  auto sign = torch::randint(0, 2, {5000, 1}, g).to(torch::kFloat) * 2 - 1;
  auto y = 2 * sign + 0.5 * torch::randn({5000, 1}, g);
  auto flow = df::flows::build("bernstein", df::flows::FlowOptions(1).order(16),
                               df::flows::standardization_of(y, "the bimodal sample"));
  df::train::fit(flow, y, df::train::FitOptions().steps(steps).learning_rate(0.02));
  // flow = Block(Chain{standardise, Block(Inverse(Chain{a2 u + b2, g, a1 y + b1}))}):
  // walk the data side to the latent side, one stage at a time.
  torch::NoGradGuard no_grad;
  auto outer = flow->bijector()->as<df::ChainImpl>();
  auto inner = outer->bijectors()[1]
                   ->as<df::BlockImpl>()
                   ->bijector()
                   ->as<df::InverseImpl>()
                   ->bijector()
                   ->as<df::ChainImpl>();
  df::Bijector standardise = outer->bijectors()[0];
  std::vector<torch::Tensor> stage{y, standardise->inverse(y)};
  for (int i = 2; i >= 0; --i) {
    df::Bijector step = inner->bijectors()[i];
    stage.push_back(step->forward(stage.back()));
  }
  const std::vector<std::string> titles{"data y", "standardised", "a#d1#u y + b#d1#u",
                                        "Bernstein g", "z = a#d2#u g + b#d2#u"};
  df::plot::Figure figure(1, 5, 1500, 340, "Bernstein flow: the density after each stage");
  for (int k = 0; k < 5; ++k) {
    const double low = stage[k].min().item<double>(), high = stage[k].max().item<double>();
    std::vector<df::plot::Line> lines{density_curve(stage[k], low, high, "samples")};
    if (k == 4) {  // the target of the last stage
      df::plot::Line normal{{}, {}, "N(0, 1)"};
      for (int i = 0; i <= 100; ++i) {
        const double z = low + (high - low) * i / 100;
        normal.x.push_back(z);
        normal.y.push_back(std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI));
      }
      lines.push_back(normal);
    }
    figure.lines(0, k, lines, {titles[k], "value", "density", ""});
  }
  figure.save(path);
}

void mvn_3d_figure(int64_t steps, const std::string& path) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(2);
  auto sign = torch::randint(0, 2, {5000}, g).to(torch::kFloat) * 2 - 1;
  auto data = torch::stack(
      {2 * sign + 0.6 * torch::randn({5000}, g), torch::exp(0.5 * torch::randn({5000}, g)) * 2 - 3},
      1);
  auto flow = df::flows::build("bernstein", df::flows::FlowOptions(2).order(16),
                               df::flows::standardization_of(data, "the bivariate sample"));
  df::train::fit(flow, data, df::train::FitOptions().steps(steps).learning_rate(0.02));
  auto base = df::StandardNormal(2);
  const df::plot::Extent range{-4.5, 4.5, -4, 5};
  df::plot::Figure figure(1, 2, 1000, 460, "Independent bivariate Bernstein flow");
  figure.surface3d(
      0, 0,
      df::plot::density_grid(
          [&](const torch::Tensor& x) { return base->log_prob(x.to(torch::kFloat)); }, range, 60),
      {"base N(0, I)", "x#d1#u", "x#d2#u", "p(x)"});
  figure.surface3d(0, 1,
                   df::plot::density_grid(
                       [&](const torch::Tensor& x) {
                         torch::NoGradGuard no_grad;
                         return flow->log_prob(x.to(torch::kFloat));
                       },
                       range, 60),
                   {"fitted flow", "x#d1#u", "x#d2#u", "p(x)"});
  figure.save(path);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = "out/bernstein";
  int64_t steps = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--out")
      out = argv[i + 1];
    else if (key == "--steps")
      steps = std::stoll(argv[i + 1]);
  }
  std::filesystem::create_directories(out);
  stages_figure(steps, out + "/bernstein_stages.png");
  mvn_3d_figure(steps, out + "/bernstein_mvn_3d.png");

  torch::Tensor y, x, y_test, x_test;
  std::tie(y, x) = regression_data(4000, 3);
  std::tie(y_test, x_test) = regression_data(20000, 4);
  const auto entropy = df::train::mean_estimate(-true_conditional_log_prob(y_test, x_test));
  std::printf("| model | test NLL | gap to the conditional entropy |\n|---|---|---|\n");
  std::printf("| truth (entropy) | %.4f ± %.4f | 0 |\n", entropy.mean, entropy.standard_error);
  auto report = [&](const std::string& name, df::flows::Flow model) {
    df::train::fit(model, y, df::train::FitOptions().steps(steps).learning_rate(0.01), x);
    torch::NoGradGuard no_grad;
    auto nll = -model->log_prob(y_test, x_test);
    const auto e = df::train::mean_estimate(nll);
    const auto gap = df::train::mean_estimate(nll + true_conditional_log_prob(y_test, x_test));
    std::printf("| %s | %.4f ± %.4f | %.4f ± %.4f |\n", name.c_str(), e.mean, e.standard_error,
                gap.mean, gap.standard_error);
    std::fflush(stdout);
    return model;
  };
  const auto scale = df::flows::standardization_of(y, "y");
  // Gaussian regression: one affine MAF layer on a 1-D target is y = mu(x) + sigma(x) z.
  report(
      "Gaussian regression",
      df::flows::build(
          "maf", df::flows::FlowOptions(1).layers(1).hidden({32, 32}).context_features(1), scale));
  df::flows::Flow best = nullptr;
  for (int64_t order : {4, 8, 16, 32})
    best = report(
        "Bernstein, order " + std::to_string(order),
        df::flows::build(
            "bernstein",
            df::flows::FlowOptions(1).order(order).hidden({32, 32}).context_features(1), scale));

  const df::plot::Extent range{-2, 2, -4, 4};
  df::plot::Figure figure(1, 2, 900, 380, "Transformation model p(y | x)");
  figure.heatmap(0, 0, df::plot::histogram2d(torch::cat({x, y}, 1), range, 60),
                 {"data", "x", "y", "density"});
  figure.heatmap(0, 1,
                 df::plot::density_grid(
                     [&](const torch::Tensor& p) {
                       torch::NoGradGuard no_grad;
                       auto points = p.to(torch::kFloat);
                       return best->log_prob(points.narrow(1, 1, 1), points.narrow(1, 0, 1));
                     },
                     range, 80),
                 {"Bernstein (order 32): p(y | x), 300 data points", "x", "y", "p(y | x)"});
  figure.points(0, 1, torch::cat({x, y}, 1).narrow(0, 0, 300));  // the data over the model
  figure.save(out + "/bernstein_conditional.png");
  std::printf("figures in %s\n", out.c_str());
  return 0;
}
