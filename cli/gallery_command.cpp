// `diffeo gallery`: the reference project's page of pictures, made by diffeo.
// Trains (or reuses) each flow on each density, draws True | MAF | Real NVP |
// NSF | Glow heatmaps captioned with test NLL and gap to the entropy, the
// rotation figures, a training animation and 3-D surfaces, and writes
// index.html / index.md.

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "../examples/rotation_flow.h"
#include "commands.h"
#include "common.h"
#include "diffeo/core/atomic_file.h"
#include "diffeo/diffeo.h"
#include "diffeo/plot/plot.h"
#include "gallery_page.h"

namespace diffeo::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kGalleryCommand = "gallery";

struct GalleryArgs {
  std::string out;
  std::string densities = "banana,gaussian_blobs,energy1,energy2,energy3,energy4";
  std::string flows = "maf,realnvp,nsf,glow";
  int64_t steps = train::FitOptions().steps(), test_n = 100000, animation_steps = 2000;
  int64_t threads = 1, resolution = 120;
  uint64_t seed = 0;
  bool retrain = false;
};

std::string display_name(const std::string& flow) {
  if (flow == "maf") return "MAF";
  if (flow == "realnvp") return "Real NVP";
  if (flow == "nsf") return "NSF";
  if (flow == "glow") return "Glow";
  return flow;
}

std::string fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

plot::PanelStyle panel(const std::string& title) { return {title, "x#d1#u", "x#d2#u", "p(x)"}; }

// A single heatmap of a log density over `range`, saved as `path`.
void save_heatmap(const std::function<torch::Tensor(const torch::Tensor&)>& log_prob,
                  const data::PlotRange& range, int64_t resolution, const std::string& title,
                  const std::string& path) {
  plot::Figure figure(1, 1, 420, 360);
  figure.heatmap(0, 0, plot::density_grid(log_prob, range, resolution, torch::kFloat64),
                 panel(title));
  figure.save(path);
}

std::function<torch::Tensor(const torch::Tensor&)> density_of(flows::Flow flow) {
  return [flow](const torch::Tensor& x) mutable {
    c10::InferenceMode guard;
    return flow->log_prob(x.to(model_dtype(flow)));
  };
}

// A trained model from the cache when one was trained with the same steps
// and seed, else a new fit (saved with a sidecar recording how it was made).
flows::Flow trained_model(const GalleryArgs& a, const std::string& flow_name,
                          const data::ToyDensity& density, const fs::path& models) {
  const auto model_path = (models / (density.name + "_" + flow_name + ".flow")).string();
  const auto sidecar_path = (models / (density.name + "_" + flow_name + ".json")).string();
  const json recipe{
      {"flow", flow_name}, {"density", density.name}, {"steps", a.steps}, {"seed", a.seed}};
  if (!a.retrain && fs::exists(model_path) && fs::exists(sidecar_path)) {
    std::ifstream in(sidecar_path);
    json stored = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (stored.is_object() && stored.value("recipe", json()) == recipe) {
      std::printf("  %-8s reused %s\n", flow_name.c_str(), model_path.c_str());
      return io::load(model_path);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto fit = train::fit_toy(flow_name, density, flows::FlowOptions(2),
                            train::FitOptions().steps(a.steps).seed(a.seed));
  io::save(fit.flow, model_path);
  write_atomically(sidecar_path, kGalleryCommand, [&](std::ostream& out) {
    out << json{{"recipe", recipe}, {"seconds", since(start)}}.dump(1) << "\n";
  });
  std::printf("  %-8s trained in %.0f s\n", flow_name.c_str(), since(start));
  return fit.flow;
}

// Base Gaussian vs its rotation, and truth vs the maximum-likelihood fit.
std::vector<GalleryFigure> rotation_figures(const GalleryArgs& a, const fs::path& img) {
  auto truth = rotation_flow::true_distribution();
  truth->to(torch::kFloat64);
  auto truth_density = [&](const torch::Tensor& x) { return truth->log_prob(x); };
  auto base_density = [&](const torch::Tensor& x) { return truth->base()->log_prob(x); };
  const data::PlotRange range{-7, 7, -7, 7};
  plot::Figure before(1, 2, 880, 380, "Rotation2D(pi/3) of a diagonal Gaussian");
  before.heatmap(0, 0, plot::density_grid(base_density, range, a.resolution, torch::kFloat64),
                 panel("base: N((3, 1), diag(0.75#u2#d, 3#u2#d))"));
  before.heatmap(0, 1, plot::density_grid(truth_density, range, a.resolution, torch::kFloat64),
                 panel("rotated by pi/3"));
  before.save((img / "rotation_base.png").string());

  rotation_flow::Options options;
  options.seed = a.seed;
  const auto report = rotation_flow::fit(options);
  auto learned = Transformed(
      StandardNormal(2),
      Chain({Rotation2D(report.theta), Shift(torch::tensor({report.shift[0], report.shift[1]})),
             Scale(torch::tensor({report.scale[0], report.scale[1]}))}));
  learned->to(torch::kFloat64);
  plot::Figure after(1, 2, 880, 380, "Maximum likelihood fit of Chain{Rotation2D, Shift, Scale}");
  after.heatmap(0, 0, plot::density_grid(truth_density, range, a.resolution, torch::kFloat64),
                panel("true"));
  after.heatmap(0, 1,
                plot::density_grid([&](const torch::Tensor& x) { return learned->log_prob(x); },
                                   range, a.resolution, torch::kFloat64),
                panel("learned"));
  after.save((img / "rotation_fit.png").string());
  std::printf("rotation: theta %.4f, KL %.5f nats\n", report.theta, report.kl);
  return {{"Rotation", "img/rotation_base.png",
           "A diagonal Gaussian and its rotation by pi/3 (the reference project's custom "
           "bijector)."},
          {"Fitting shift, scale and rotation", "img/rotation_fit.png",
           "Maximum likelihood from theta = pi, a = 1, b = 0: KL(learned || true) = " +
               fixed(report.kl, 5) + " nats."}};
}

// Real NVP learning banana, one frame every animation_steps / 20 steps.
GalleryFigure training_animation(const GalleryArgs& a, const fs::path& img) {
  const auto& banana = data::toy("banana");
  plot::Animation animation;
  const int64_t every = std::max<int64_t>(1, a.animation_steps / 20);
  auto flow = train::toy_flow("realnvp", banana, flows::FlowOptions(2), a.seed);
  auto fit_options = train::FitOptions().steps(a.animation_steps).seed(a.seed).validate_every(0);
  fit_options.on_step([&](int64_t step, double) {
    if (step % every != 0 && step != 1) return;
    plot::Figure figure(1, 1, 420, 360);
    figure.heatmap(0, 0, plot::density_grid(density_of(flow), banana.range, 80, torch::kFloat64),
                   panel("Real NVP, step " + std::to_string(step)));
    animation.add_frame(figure);
  });
  train::fit(flow, train::toy_sampler(banana), fit_options);
  animation.save_gif((img / "training.gif").string(), 150);
  return {"Training", "img/training.gif",
          "Real NVP learning banana: the model density every " + std::to_string(every) + " steps."};
}

void run(const GalleryArgs& a) {
  require_positive(a.steps, "--steps", kGalleryCommand);
  require_positive(a.test_n, "--test-n", kGalleryCommand);
  require_positive(a.animation_steps, "--animation-steps", kGalleryCommand);
  require_positive(a.resolution, "--resolution", kGalleryCommand);
  if (a.out.empty()) throw UsageError(kGalleryCommand, "--out DIR is required");
  const auto flow_names = split_list(a.flows);
  const auto density_names = split_list(a.densities);
  if (flow_names.empty() || density_names.empty())
    throw UsageError(kGalleryCommand, "--flows and --densities need at least one name each");
  for (const auto& name : flow_names) require_flow(name, kGalleryCommand);
  std::vector<const data::ToyDensity*> densities;
  for (const auto& name : density_names) {
    densities.push_back(&density_option(name, /*need_sampler=*/true, kGalleryCommand));
    if (!densities.back()->log_prob)
      throw UsageError(kGalleryCommand,
                       "density '" + name + "' has no exact log density to compare to");
  }
  set_threads(a.threads, kGalleryCommand);

  const fs::path out(a.out), img = out / "img", models = out / "models";
  std::error_code error;
  fs::create_directories(img, error);
  fs::create_directories(models, error);
  if (error || !fs::is_directory(img) || !fs::is_directory(models))
    throw Error(std::string(kGalleryCommand) + ": cannot create the directories under '" + a.out +
                "'");
  const auto start = std::chrono::steady_clock::now();

  GalleryPage page;
  page.title = "diffeo gallery";
  page.intro = "Each flow trained with default settings (" + std::to_string(a.steps) +
               " steps) on each toy density; captions: test NLL on " + std::to_string(a.test_n) +
               " fresh samples and, in brackets, its gap to the density's entropy (the KL from "
               "the truth to the model, nats).";
  page.columns.push_back("True");
  for (const auto& name : flow_names) page.columns.push_back(display_name(name));
  json results = json::array();

  int64_t done = 0;
  const auto total = static_cast<int64_t>(densities.size() * flow_names.size());
  for (const auto* density : densities) {
    std::printf("%s\n", density->name.c_str());
    std::fflush(stdout);
    GalleryRow row{density->name, {}};
    auto test = density->sample(a.test_n, at::make_generator<at::CPUGeneratorImpl>(a.seed + 1000));
    const auto entropy = train::mean_estimate(-density->log_prob(test.to(torch::kFloat64)));
    const std::string true_image = "img/" + density->name + "_true.png";
    save_heatmap(density->log_prob, density->range, a.resolution, "True",
                 (out / true_image).string());
    row.cells.push_back({true_image, "entropy " + fixed(entropy.mean, 3)});
    for (const auto& flow_name : flow_names) {
      auto flow = trained_model(a, flow_name, *density, models);
      const auto score = train::compare_with_truth(flow, test, density->log_prob);
      const std::string image = "img/" + density->name + "_" + flow_name + ".png";
      save_heatmap(density_of(flow), density->range, a.resolution, display_name(flow_name),
                   (out / image).string());
      row.cells.push_back(
          {image, "NLL " + fixed(score.nll.mean, 3) + " (+" + fixed(score.kl.mean, 3) + ")"});
      results.push_back({{"density", density->name},
                         {"flow", flow_name},
                         {"test_nll", score.nll.mean},
                         {"test_nll_se", score.nll.standard_error},
                         {"entropy", score.entropy.mean},
                         {"gap", score.kl.mean},
                         {"gap_se", score.kl.standard_error}});
      std::printf("  [%lld/%lld] %s on %s: NLL %.4f, gap %.4f nats (%.0f s so far)\n",
                  static_cast<long long>(++done), static_cast<long long>(total), flow_name.c_str(),
                  density->name.c_str(), score.nll.mean, score.kl.mean, since(start));
      std::fflush(stdout);
    }
    page.rows.push_back(row);
  }

  for (auto& figure : rotation_figures(a, img)) page.figures.push_back(figure);
  page.figures.push_back(training_animation(a, img));

  // 3-D surfaces: the first density and the first flow's model of it.
  const auto* first = densities.front();
  auto model = io::load((models / (first->name + "_" + flow_names.front() + ".flow")).string());
  plot::Figure surfaces(1, 2, 960, 440, "3-D surfaces: " + first->name);
  surfaces.surface3d(0, 0, plot::density_grid(first->log_prob, first->range, 60, torch::kFloat64),
                     panel("True"));
  surfaces.surface3d(0, 1, plot::density_grid(density_of(model), first->range, 60, torch::kFloat64),
                     panel(display_name(flow_names.front())));
  surfaces.save((img / "surface.png").string());
  page.figures.push_back(
      {"3-D surface", "img/surface.png", "The true density and the learned one as surfaces."});

  write_atomically((out / "index.html").string(), kGalleryCommand,
                   [&](std::ostream& o) { o << gallery_html(page); });
  write_atomically((out / "index.md").string(), kGalleryCommand,
                   [&](std::ostream& o) { o << gallery_markdown(page); });
  write_atomically((out / "results.json").string(), kGalleryCommand,
                   [&](std::ostream& o) { o << results.dump(1) << "\n"; });
  std::printf("gallery written to %s (%.0f s)\n", (out / "index.html").string().c_str(),
              since(start));
}

}  // namespace

void add_gallery_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "gallery", "Train the flow zoo on the toy densities and write a page of pictures");
  auto a = std::make_shared<GalleryArgs>();
  command->add_option("--out", a->out, "Output directory (index.html, index.md, img/, models/)")
      ->required();
  command->add_option("--densities", a->densities, "Comma list of toy densities")
      ->capture_default_str();
  command->add_option("--flows", a->flows, "Comma list of flows")->capture_default_str();
  command->add_option("--steps", a->steps, "Training steps per model")->capture_default_str();
  command->add_option("--test-n", a->test_n, "Fresh samples for the test NLL")
      ->capture_default_str();
  command
      ->add_option("--animation-steps", a->animation_steps,
                   "Training steps of the animation (Real NVP on banana)")
      ->capture_default_str();
  command->add_option("--resolution", a->resolution, "Cells per axis of each heatmap")
      ->capture_default_str();
  command->add_option("--seed", a->seed, "Seed of training and test samples")
      ->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->add_flag("--retrain", a->retrain, "Train every model again instead of reusing models/");
  command->callback([a] { run(*a); });
}

}  // namespace diffeo::cli
