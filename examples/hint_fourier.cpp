// The HINT paper's Fourier-curve experiment on this machine: HINT (the two-lane
// conditional flow) against a cINN (a conditional Real NVP with y as context)
// of about the same parameter count, trained for the same number of steps on
// (x, y) = (Fourier coefficients, noisy shape summaries) drawn from the prior,
// plus a second cINN trained for HINT's wall time.  Scored per observation y*
// by the MMD between each model's posterior draws and a quantile-ABC reference
// (the nearest `keep` of `pool` prior draws in y, drawn chunk by chunk), with
// a paired comparison over the y*, and by the held-out conditional NLL
// -log q(x | y) on fresh prior pairs (a proper score: its gap between two
// models is their gap in expected KL to the true posterior).
//
// --style authors swaps both models for the HINT code's Fourier-curve models.
//
// usage: hint_fourier [--style diffeo|authors] [--steps S] [--observations K] [--pool N] ... (--help)

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "diffeo/core/atomic_file.h"
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
using json = nlohmann::json;

namespace {

int64_t count_parameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> doubles_of(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

json history(const df::train::FitReport& report) {
  json validation = json::array();
  for (const auto& [step, loss] : report.validation_loss) validation.push_back({step, loss});
  return {{"steps", report.steps}, {"seconds", report.seconds},
          {"stop_reason", report.stop_reason}, {"validation", validation}};
}

std::vector<df::plot::Line> curves(const torch::Tensor& x, int64_t n) {
  auto traced =
      fc::trace_curves(x.narrow(0, 0, std::min<int64_t>(n, x.size(0))).to(torch::kFloat64));
  std::vector<df::plot::Line> lines;
  for (int64_t i = 0; i < traced.size(0); ++i) {
    auto c = traced[i];
    lines.push_back({doubles_of(c.select(1, 0)), doubles_of(c.select(1, 1)), ""});
  }
  return lines;
}

// Mean +- standard error of a list, as "0.0123 +- 0.0045".
std::string estimate_text(const std::vector<double>& v, const char* format = "%.4f") {
  const auto e = df::train::mean_estimate(torch::tensor(v, torch::kFloat64));
  char mean[32], se[32];
  std::snprintf(mean, sizeof mean, format, e.mean);
  std::snprintf(se, sizeof se, format, e.standard_error);
  return std::string(mean) + " +- " + se;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HINT against a cINN on the HINT paper's Fourier-curve benchmark"};
  uint64_t seed = 0;
  int64_t steps = 20000, observations = 100, pool = 20'000'000, keep = 2000,
          train_size = 200000, validation_size = 20000, test_size = 20000,
          validate_every = 1000, batch_size = 256, hint_layers = 4, hidden = 128,
          cinn_layers = 0, threads = 1;
  double learning_rate = 1e-3;
  bool equal_time = true;
  std::string out = "out/hint_fourier", style = "diffeo";
  app.add_option("--steps", steps, "training steps of HINT and of the equal-steps cINN")
      ->check(CLI::PositiveNumber);
  app.add_option("--observations", observations, "observations y* (fresh prior draws)")
      ->check(CLI::PositiveNumber);
  app.add_option("--pool", pool, "prior draws behind the ABC references")
      ->check(CLI::PositiveNumber);
  app.add_option("--keep", keep, "ABC draws kept per y* (= posterior draws per model)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  app.add_option("--train-size", train_size, "training pairs")->check(CLI::PositiveNumber);
  app.add_option("--validation-size", validation_size, "validation pairs")
      ->check(CLI::PositiveNumber);
  app.add_option("--test-size", test_size, "held-out pairs for the conditional NLL")
      ->check(CLI::PositiveNumber);
  app.add_option("--validate-every", validate_every, "steps between validations")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch_size, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--learning-rate", learning_rate, "Adam's initial rate (cosine schedule)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hint-layers", hint_layers, "HINT blocks per lane")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "HINT's top-level conditioner width (two layers)")
      ->check(CLI::PositiveNumber);
  app.add_option("--cinn-layers", cinn_layers,
                 "cINN couplings, width matched to HINT's count (0: 8 for style diffeo, "
                 "--hint-layers for style authors)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--style", style,
                 "diffeo: y in every x conditioner, y lane as wide as x, tree clamp 2, cINN = "
                 "Real NVP (2 hidden layers); authors: the HINT code's Fourier models: x trees "
                 "without y plus an affine map of x from y per block (3 hidden layers), y lane "
                 "at a quarter width, tree clamp 4, cINN = learned linear map + coupling per "
                 "block (flow glow, 3 hidden layers)")
      ->check(CLI::IsMember({"diffeo", "authors"}));
  app.add_option("--equal-time", equal_time, "also train a cINN for HINT's wall time (true/false)");
  app.add_option("--seed", seed,
                 "seed of both models' initial weights and batch order (the data, the y* and "
                 "the references stay fixed, so seeds measure the training's spread)");
  app.add_option("--threads", threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--out", out, "output directory (results.json, figure)");
  CLI11_PARSE(app, argc, argv);
  if (keep > pool) {
    std::fprintf(stderr, "hint_fourier: error: --keep (%lld) must not exceed --pool (%lld)\n",
                 (long long)keep, (long long)pool);
    return 1;
  }
  try {
    torch::set_num_threads(static_cast<int>(threads));
    std::filesystem::create_directories(out);
    const bool authors = style == "authors";
    if (cinn_layers == 0) cinn_layers = authors ? hint_layers : 8;
    json results = {{"style", style}, {"seed", seed}, {"steps", steps},
                    {"observations", observations}, {"pool", pool},
                    {"keep", keep}, {"train_size", train_size}, {"batch_size", batch_size},
                    {"learning_rate", learning_rate}, {"threads", threads}};

    // Data from the prior with fixed seeds: training, validation and test pairs, the y*.
    auto g_train = seeded(10), g_validation = seeded(13), g_test = seeded(14);
    const auto x_train = fc::sample_prior(train_size, g_train);
    const auto y_train = fc::observe(x_train, g_train);
    const auto x_validation = fc::sample_prior(validation_size, g_validation);
    const auto y_validation = fc::observe(x_validation, g_validation);
    const auto x_test = fc::sample_prior(test_size, g_test);
    const auto y_test = fc::observe(x_test, g_test);
    auto g_star = seeded(12);
    const auto y_star = fc::observe(fc::sample_prior(observations, g_star), g_star);

    const auto abc_start = std::chrono::steady_clock::now();
    const auto abc = fc::abc_posteriors(y_star, pool, keep, seeded(11));
    const auto tolerance = abc.tolerance.sort();
    const auto tolerances = std::get<0>(tolerance);
    std::printf("ABC: nearest %lld of %lld prior draws for %lld y* in %.0f s; tolerance median "
                "%.4f, max %.4f (noise sd 0.05)\n",
                (long long)keep, (long long)pool, (long long)observations, seconds_since(abc_start),
                tolerances[observations / 2].item<double>(), tolerances[-1].item<double>());
    std::fflush(stdout);
    results["abc_tolerance"] = doubles_of(abc.tolerance);
    results["abc_seconds"] = seconds_since(abc_start);

    // HINT sees standardised x and y; the cINN standardises x inside and reads
    // standardised y as its context (statistics of the training pairs).
    const auto sx = df::flows::standardization_of(x_train, "x"),
               sy = df::flows::standardization_of(y_train, "y");
    auto tensor = [](const std::vector<double>& v) { return torch::tensor(v).to(torch::kFloat32); };
    const auto y_mean = tensor(sy.mean), y_scale = tensor(sy.scale);
    const auto x_mean = tensor(sx.mean), x_scale = tensor(sx.scale);
    auto ys = [&](const torch::Tensor& y) { return (y - y_mean) / y_scale; };
    auto xs = [&](const torch::Tensor& x) { return (x - x_mean) / x_scale; };
    const double log_x_scale = x_scale.log().sum().item<double>();

    auto hint_options =
        df::flows::ConditionalHINTOptions(20, 3).layers(hint_layers).hidden({hidden, hidden}).seed(
            seed);
    if (authors)
      hint_options.conditioning("external")
          .y_hidden({hidden / 4, hidden / 4})
          .external_hidden({hidden, hidden, hidden})
          .log_scale_bound(4.0);
    df::flows::ConditionalHINT hint(hint_options);
    const int64_t hint_parameters = count_parameters(*hint);
    // The cINN: couplings on x with y as context, the width chosen for the same count.
    const std::string cinn_flow = authors ? "glow" : "realnvp";
    const int64_t cinn_depth = authors ? 3 : 2;
    auto cinn_options = [&](int64_t width) {
      return df::flows::FlowOptions(20)
          .layers(cinn_layers)
          .hidden(std::vector<int64_t>(cinn_depth, width))
          .context_features(3);
    };
    int64_t width = 8;
    while (count_parameters(*df::flows::build(cinn_flow, cinn_options(width + 4), sx)) <=
           hint_parameters)
      width += 4;
    auto build_cinn = [&] {
      torch::manual_seed(seed);
      return df::flows::build(cinn_flow, cinn_options(width), sx);
    };
    auto cinn = build_cinn();
    const int64_t cinn_parameters = count_parameters(*cinn);
    std::printf("HINT (%s conditioning, %lld blocks per lane, hidden %lld) %lld parameters; cINN "
                "(%s, %lld couplings, %lld hidden layers of %lld) %lld parameters\n",
                hint_options.conditioning().c_str(), (long long)hint_layers, (long long)hidden,
                (long long)hint_parameters, cinn_flow.c_str(), (long long)cinn_layers,
                (long long)cinn_depth, (long long)width, (long long)cinn_parameters);
    std::fflush(stdout);
    results["parameters"] = {{"hint", hint_parameters}, {"cinn", cinn_parameters}};
    results["cinn"] = {{"flow", cinn_flow}, {"layers", cinn_layers}, {"hidden_layers", cinn_depth},
                       {"width", width}};

    // Both on the training engine with the same settings: FlatAdam, the cosine
    // schedule, clipping at 5, shuffled epochs; the best validation's weights.
    const auto options = df::train::FitOptions()
                             .steps(steps)
                             .batch_size(batch_size)
                             .learning_rate(learning_rate)
                             .validate_every(validate_every)
                             .seed(seed + 1)
                             .progress(true)
                             .log_every(validate_every);
    df::train::MaximumLikelihood hint_objective(
        hint.ptr(), [&](const torch::Tensor& x, const torch::Tensor& y) { return hint->log_prob(x, y); });
    hint_objective.validate_on(xs(x_validation), ys(y_validation));
    df::train::TensorDataSet pairs({{"x", xs(x_train)}, {"y", ys(y_train)}});
    const auto hint_report = df::train::fit(hint_objective, pairs, options);
    const auto cinn_report =
        df::train::fit(cinn, x_train, options, ys(y_train), x_validation, ys(y_validation));
    results["training"] = {{"hint", history(hint_report)}, {"cinn", history(cinn_report)}};
    df::flows::Flow cinn_time = nullptr;
    if (equal_time) {
      cinn_time = build_cinn();
      const auto report = df::train::fit(
          cinn_time, x_train, df::train::FitOptions(options).steps(1 << 30).time_limit(hint_report.seconds),
          ys(y_train), x_validation, ys(y_validation));
      results["training"]["cinn_equal_time"] = history(report);
    }

    torch::NoGradGuard no_grad;
    hint->eval();
    cinn->eval();
    if (cinn_time) cinn_time->eval();
    // Held-out -log q(x | y) in nats, in x's own units (HINT's density is of standardised x).
    json test_nll;
    const auto hint_nll =
        -(hint->log_prob_x_given_y(xs(x_test), ys(y_test)).to(torch::kFloat64) - log_x_scale);
    test_nll["hint"] = df::train::mean_estimate(hint_nll).mean;
    auto cinn_nll = [&](const df::flows::Flow& model) {
      return -df::train::log_prob_in_chunks(model, x_test, 4096, ys(y_test));
    };
    const auto cinn_nll_values = cinn_nll(cinn);
    test_nll["cinn"] = df::train::mean_estimate(cinn_nll_values).mean;
    const auto paired_nll = df::train::mean_estimate(hint_nll - cinn_nll_values);
    test_nll["hint_minus_cinn"] = {paired_nll.mean, paired_nll.standard_error};
    if (cinn_time) test_nll["cinn_equal_time"] = df::train::mean_estimate(cinn_nll(cinn_time)).mean;
    results["test_conditional_nll"] = test_nll;

    // Posterior draws for every y*, MMD^2 to its ABC reference.
    std::vector<double> mmd_hint, mmd_cinn, mmd_cinn_time, mmd_prior, difference;
    std::vector<torch::Tensor> shown;
    const auto prior_draws = fc::sample_prior(keep, seeded(15));
    auto cinn_posterior = [&](const df::flows::Flow& model, int64_t i, at::Generator g) {
      // One base draw per context row, through the cINN's bijector (data units).
      return model->bijector()->forward(torch::randn({keep, 20}, g),
                                        ys(y_star[i]).unsqueeze(0).expand({keep, 3}).contiguous());
    };
    for (int64_t i = 0; i < observations; ++i) {
      const auto reference = abc.x[i];
      auto g = seeded(100 + i);
      const auto from_hint = hint->sample_posterior(ys(y_star[i]), keep, g) * x_scale + x_mean;
      const auto from_cinn = cinn_posterior(cinn, i, g);
      mmd_hint.push_back(df::train::mmd_squared(from_hint, reference));
      mmd_cinn.push_back(df::train::mmd_squared(from_cinn, reference));
      difference.push_back(mmd_hint.back() - mmd_cinn.back());
      if (cinn_time)
        mmd_cinn_time.push_back(df::train::mmd_squared(cinn_posterior(cinn_time, i, g), reference));
      mmd_prior.push_back(df::train::mmd_squared(prior_draws, reference));
      if (i < 3) shown.insert(shown.end(), {reference, from_hint, from_cinn});
    }
    const auto wins = std::count_if(difference.begin(), difference.end(), [](double d) { return d < 0; });
    results["mmd"] = {{"hint", mmd_hint}, {"cinn", mmd_cinn}, {"prior", mmd_prior}};
    if (cinn_time) results["mmd"]["cinn_equal_time"] = mmd_cinn_time;
    results["hint_closer_than_cinn"] = wins;

    std::printf("\n%lld y*, %lld posterior draws each against the nearest %lld of %lld prior "
                "draws; %lld training steps\n\n",
                (long long)observations, (long long)keep, (long long)keep, (long long)pool,
                (long long)steps);
    std::printf("| model | parameters | steps | train s | MMD^2 to ABC (mean +- se) | held-out "
                "-log q(x|y) |\n|---|---|---|---|---|---|\n");
    std::printf("| HINT | %lld | %lld | %.0f | %s | %.3f |\n", (long long)hint_parameters,
                (long long)hint_report.steps, hint_report.seconds, estimate_text(mmd_hint).c_str(),
                test_nll["hint"].get<double>());
    std::printf("| cINN, equal steps | %lld | %lld | %.0f | %s | %.3f |\n",
                (long long)cinn_parameters, (long long)cinn_report.steps, cinn_report.seconds,
                estimate_text(mmd_cinn).c_str(), test_nll["cinn"].get<double>());
    if (cinn_time) {
      const auto& report = results["training"]["cinn_equal_time"];
      std::printf("| cINN, HINT's time | %lld | %lld | %.0f | %s | %.3f |\n",
                  (long long)cinn_parameters, report["steps"].get<long long>(),
                  report["seconds"].get<double>(), estimate_text(mmd_cinn_time).c_str(),
                  test_nll["cinn_equal_time"].get<double>());
    }
    std::printf("| prior (no model) | - | - | - | %s | - |\n", estimate_text(mmd_prior).c_str());
    std::printf("\npaired, HINT - cINN (equal steps): MMD^2 %s, HINT closer on %lld of %lld y*; "
                "held-out NLL %.4f +- %.4f nats\n",
                estimate_text(difference, "%.5f").c_str(), (long long)wins, (long long)observations,
                paired_nll.mean, paired_nll.standard_error);

    df::plot::Figure figure(static_cast<int>(shown.size() / 3), 3, 900, 900,
                            "Posterior curves for three y*: ABC | HINT | cINN");
    const char* names[] = {"ABC reference", "HINT", "cINN"};
    for (int r = 0; r < static_cast<int>(shown.size() / 3); ++r)
      for (int k = 0; k < 3; ++k)
        figure.lines(
            r, k, curves(shown[3 * r + k], 12),
            df::plot::PanelStyle{names[k] + std::string(" (y* ") + std::to_string(r + 1) + ")"});
    figure.save(out + "/hint_fourier_posteriors.png");
    df::AtomicFile file(out + "/results.json", "hint_fourier");
    std::ofstream(file.temporary()) << results.dump(2) << "\n";
    file.commit();
    std::printf("\nwrote %s/results.json and %s/hint_fourier_posteriors.png\n", out.c_str(),
                out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hint_fourier: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
