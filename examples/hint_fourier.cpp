// The HINT paper's Fourier-curve experiment on this machine: HINT (the two-lane
// conditional flow) against a cINN (a conditional Real NVP with y as context)
// of about the same parameter count, each trained for the same time on
// (x, y) = (Fourier coefficients, noisy shape summaries) drawn from the prior;
// scored by the MMD between each model's posterior samples and a quantile-ABC
// reference (the nearest 2000 of 1e6 prior draws in y), averaged over y*.
//
// usage: hint_fourier [--minutes M] [--observations K] [--out DIR] [--threads T]

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "diffeo/data/fourier_curves.h"
#include "diffeo/flows/flow.h"
#include "diffeo/flows/hint.h"
#include "diffeo/flows/standardization.h"
#include "diffeo/plot/figure.h"
#include "diffeo/train/evaluate.h"
#include "diffeo/train/fit.h"
#include "diffeo/train/flow_objectives.h"
#include "diffeo/train/mmd.h"

namespace df = diffeo;
namespace fc = diffeo::data::fourier;

namespace {

int64_t count_parameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

// Maximum likelihood of the joint p(x, y) with the training engine, on the
// cINN's settings: FlatAdam, batch 256, the cosine schedule over the time
// budget, clipping at 5.
df::train::FitReport fit_hint(df::flows::ConditionalHINT& model, const torch::Tensor& x,
                              const torch::Tensor& y, const df::train::FitOptions& options) {
  df::train::MaximumLikelihood objective(
      model.ptr(), [&](const torch::Tensor& xs, const torch::Tensor& ys) { return model->log_prob(xs, ys); });
  df::train::TensorDataSet pairs({{"x", x}, {"y", y}});
  return df::train::fit(objective, pairs, options);
}

std::vector<df::plot::Line> curves(const torch::Tensor& x, int64_t n) {
  auto traced =
      fc::trace_curves(x.narrow(0, 0, std::min<int64_t>(n, x.size(0))).to(torch::kFloat64));
  std::vector<df::plot::Line> lines;
  for (int64_t i = 0; i < traced.size(0); ++i) {
    auto c = traced[i].contiguous();
    auto px = c.select(1, 0).contiguous(), py = c.select(1, 1).contiguous();
    lines.push_back({std::vector<double>(px.data_ptr<double>(), px.data_ptr<double>() + px.numel()),
                     std::vector<double>(py.data_ptr<double>(), py.data_ptr<double>() + py.numel()),
                     ""});
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  double minutes = 10;
  int64_t observations = 20, threads = 1;
  std::string out = "out/hint_fourier";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--minutes")
      minutes = std::stod(argv[i + 1]);
    else if (key == "--observations")
      observations = std::stoll(argv[i + 1]);
    else if (key == "--out")
      out = argv[i + 1];
    else if (key == "--threads")
      threads = std::stoll(argv[i + 1]);
  }
  torch::set_num_threads(static_cast<int>(threads));
  std::filesystem::create_directories(out);

  // Training pairs and the ABC pool, from the prior with fixed seeds.
  auto g_train = at::make_generator<at::CPUGeneratorImpl>(10);
  const auto x_train = fc::sample_prior(200000, g_train);
  const auto y_train = fc::observe(x_train, g_train);
  auto g_pool = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto x_pool = fc::sample_prior(1000000, g_pool);
  const auto y_pool = fc::observe(x_pool, g_pool);
  auto g_star = at::make_generator<at::CPUGeneratorImpl>(12);
  const auto x_star = fc::sample_prior(observations, g_star);
  const auto y_star = fc::observe(x_star, g_star);

  // Both models see standardised x and y (statistics of the training pairs).
  const auto sx = df::flows::standardization_of(x_train, "x"),
             sy = df::flows::standardization_of(y_train, "y");
  auto tensor = [](const std::vector<double>& v) { return torch::tensor(v).to(torch::kFloat32); };
  const auto y_mean = tensor(sy.mean), y_scale = tensor(sy.scale);
  const auto x_mean = tensor(sx.mean), x_scale = tensor(sx.scale);
  auto ys = [&](const torch::Tensor& y) { return (y - y_mean) / y_scale; };

  df::flows::ConditionalHINT hint(
      df::flows::ConditionalHINTOptions(20, 3).layers(4).hidden({128, 128}));
  const int64_t hint_parameters = count_parameters(*hint);
  // The cINN: Real NVP on x with y as context, its width chosen for the same count.
  auto cinn_options = [](int64_t width) {
    return df::flows::FlowOptions(20).layers(8).hidden({width, width}).context_features(3);
  };
  int64_t width = 8;
  while (count_parameters(*df::flows::build("realnvp", cinn_options(width + 4), sx)) <=
         hint_parameters)
    width += 4;
  auto cinn = df::flows::build("realnvp", cinn_options(width), sx);
  const int64_t cinn_parameters = count_parameters(*cinn);
  std::printf(
      "HINT %lld parameters; cINN (Real NVP, 8 couplings, hidden %lld,%lld) %lld parameters\n",
      (long long)hint_parameters, (long long)width, (long long)width, (long long)cinn_parameters);
  std::fflush(stdout);

  const auto budget = df::train::FitOptions()
                          .steps(1 << 30)
                          .time_limit(60 * minutes)
                          .validate_every(0)
                          .seed(1)
                          .progress(true)
                          .log_every(500);
  const int64_t hint_steps = fit_hint(hint, (x_train - x_mean) / x_scale, ys(y_train), budget).steps;
  auto report = df::train::fit(cinn, x_train, budget, ys(y_train));

  // Posterior samples for every y*, MMD to the ABC reference.
  torch::NoGradGuard no_grad;
  const int64_t n = 2000;
  std::vector<double> mmd_hint, mmd_cinn, mmd_prior;
  std::vector<torch::Tensor> shown;
  for (int64_t i = 0; i < observations; ++i) {
    auto reference = fc::abc_posterior(y_star[i], x_pool, y_pool, n);
    auto g = at::make_generator<at::CPUGeneratorImpl>(100 + i);
    auto from_hint = hint->sample_posterior(ys(y_star[i]), n, g) * x_scale + x_mean;
    // One base draw per context row, through the cINN's bijector (data units).
    auto from_cinn = cinn->bijector()->forward(
        torch::randn({n, 20}, g), ys(y_star[i]).unsqueeze(0).expand({n, 3}).contiguous());
    mmd_hint.push_back(df::train::mmd_squared(from_hint, reference));
    mmd_cinn.push_back(df::train::mmd_squared(from_cinn, reference));
    mmd_prior.push_back(df::train::mmd_squared(x_pool.narrow(0, 0, n), reference));
    if (i < 3) shown.insert(shown.end(), {reference, from_hint, from_cinn});
  }
  auto summary = [](const std::vector<double>& v) {
    return df::train::mean_estimate(torch::tensor(v, torch::kFloat64));
  };
  const auto h = summary(mmd_hint), c = summary(mmd_cinn), p = summary(mmd_prior);
  std::printf(
      "\n%lld observations y*, 2000 posterior draws each, ABC: nearest 2000 of 1e6; %.0f min of "
      "training each\n\n",
      (long long)observations, minutes);
  std::printf("| model | parameters | steps | MMD^2 to ABC (mean +- se) |\n|---|---|---|---|\n");
  std::printf("| HINT | %lld | %lld | %.4f +- %.4f |\n", (long long)hint_parameters,
              (long long)hint_steps, h.mean, h.standard_error);
  std::printf("| cINN | %lld | %lld | %.4f +- %.4f |\n", (long long)cinn_parameters,
              (long long)report.steps, c.mean, c.standard_error);
  std::printf("| prior (no model) | - | - | %.4f +- %.4f |\n", p.mean, p.standard_error);

  df::plot::Figure figure(static_cast<int>(shown.size() / 3), 3, 900, 900,
                          "Posterior curves for three y*: ABC | HINT | cINN");
  const char* names[] = {"ABC reference", "HINT", "cINN"};
  for (int r = 0; r < static_cast<int>(shown.size() / 3); ++r)
    for (int k = 0; k < 3; ++k)
      figure.lines(
          r, k, curves(shown[3 * r + k], 12),
          df::plot::PanelStyle{names[k] + std::string(" (y* ") + std::to_string(r + 1) + ")"});
  figure.save(out + "/hint_fourier_posteriors.png");
  std::printf("\nfigure: %s/hint_fourier_posteriors.png\n", out.c_str());
}
