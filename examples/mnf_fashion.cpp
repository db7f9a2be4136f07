// Fashion-MNIST classification with Bayesian networks, after the MNF paper's
// MNIST experiments: the same network as a point estimate (MAP), a mean-field
// Gaussian (Bayes by backprop) and a multiplicative normalizing flow
// posterior, each trained for the same number of epochs.  Reports test error, NLL and
// expected calibration error of the posterior predictive (L draws).  With
// --ood it trains on the first five classes only and also reports the
// predictive entropy on the other five (out of distribution), with a CDF plot:
// an honest model is unsure there, so its curve stays low until large entropy.
//
// usage: mnf_fashion [--arch mlp|lenet5] [--epochs E] [--minutes M] [--methods a,b] [--samples L]
//                    [--ood] [--out DIR] [--threads T] [--seed S] [--kl-warmup STEPS]
//                    [--learning-rate R] [--prior-variance V] [--initial-log-std S]
//                    [--max-std S] [--uncapped-kl] [--flow-steps-q K] [--flow-steps-r K]
//
// Data-parallel: started with torchrun's variables set (WORLD_SIZE, RANK,
// MASTER_ADDR, MASTER_PORT; a SLURM or Kubernetes launcher), each process
// joins as its rank and trains its shard of every batch of 100; rank 0
// evaluates and writes.

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "diffeo/bnn/elbo.h"
#include "diffeo/bnn/network.h"
#include "diffeo/bnn/prediction.h"
#include "diffeo/bnn/training.h"
#include "diffeo/core/atomic_file.h"
#include "diffeo/core/error.h"
#include "diffeo/data/fashion_mnist.h"
#include "diffeo/distributed/rendezvous.h"
#include "diffeo/train/data_source.h"
#include "diffeo/plot/figure.h"

namespace bnn = diffeo::bnn;
namespace dp = diffeo::plot;
using json = nlohmann::json;

namespace {

struct Split {
  torch::Tensor x, y;
};

// Grey levels to [0, 1]; flattened for the MLP; optionally only classes < k.
Split prepare(const diffeo::data::ImageSet& set, const std::string& arch, int64_t max_class,
              bool below) {
  auto keep = below ? set.labels < max_class : set.labels >= max_class;
  auto index = keep.nonzero().squeeze(1);
  auto x = set.images.index_select(0, index).to(torch::kFloat32) / 255.0;
  if (arch == "mlp") x = x.flatten(1);
  return {x, set.labels.index_select(0, index)};
}

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bayesian networks on Fashion-MNIST: MAP, Bayes by backprop, MNF"};
  std::string arch = "mlp", out = "out/mnf_fashion";
  std::vector<std::string> methods = {"point", "mean_field", "mnf"};
  double minutes = 0;
  int64_t epochs = 30, samples = 100, threads = 1, kl_warmup = 0;
  uint64_t seed = 1;
  double learning_rate = 1e-3;
  bnn::LayerOptions weights;
  bnn::MultiplicativeNoiseOptions noise;
  bool ood = false;
  app.add_option("--arch", arch, "mlp (784-300-100-K) or lenet5")
      ->check(CLI::IsMember({"mlp", "lenet5"}));
  app.add_option("--epochs", epochs, "training epochs per method (batches of 100)")
      ->check(CLI::PositiveNumber);
  app.add_option("--minutes", minutes, "cap on the training time per method (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--methods", methods, "posteriors to train: point, mean_field, mnf")
      ->delimiter(',')
      ->check(CLI::IsMember({"point", "mean_field", "mnf"}));
  app.add_option("--samples", samples, "posterior draws per prediction (L)")
      ->check(CLI::PositiveNumber);
  app.add_option("--kl-warmup", kl_warmup, "steps over which the KL weight grows from 0 to 1")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--learning-rate", learning_rate, "Adam's rate (constant)")
      ->check(CLI::PositiveNumber);
  app.add_option("--prior-variance", weights.prior_variance(),
                 "variance of the N(0, v) prior on every weight and bias")
      ->check(CLI::PositiveNumber);
  app.add_option("--initial-log-std", weights.initial_log_std(),
                 "starting log sd of the Gaussian posteriors (the authors': -9)");
  app.add_option("--max-std", weights.max_std(), "cap on the Gaussian posteriors' sds")
      ->check(CLI::PositiveNumber);
  bool uncapped_kl = false;
  app.add_flag("--uncapped-kl", uncapped_kl,
               "cap the sds in the forward pass only, as the authors' code (not a bound)");
  app.add_option("--flow-steps-q", noise.flow_steps_q(), "MNF: coupling steps of q(z)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--flow-steps-r", noise.flow_steps_r(), "MNF: coupling steps of r(z | W)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--ood", ood, "train on classes 0-4, score entropy on classes 5-9");
  app.add_option("--out", out, "output directory (results.json, entropy CSV and plot)");
  app.add_option("--threads", threads, "LibTorch intra-op threads")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of the weights, noise and batches");
  CLI11_PARSE(app, argc, argv);
  weights.cap_std_in_kl(!uncapped_kl);
  try {
    torch::set_num_threads(static_cast<int>(threads));
    const auto group = diffeo::distributed::join_from_environment();
    const int rank = group ? group->getRank() : 0;
    if (rank == 0) std::filesystem::create_directories(out);
    const int64_t classes = ood ? 5 : 10;
    const auto train_set = diffeo::data::fashion_mnist("train");
    const auto test_set = diffeo::data::fashion_mnist("test");
    const auto train = prepare(train_set, arch, classes, true);
    const auto test = prepare(test_set, arch, classes, true);
    const auto unseen = ood ? prepare(test_set, arch, classes, false) : Split{};

    json results = {{"arch", arch}, {"classes", classes}, {"samples", samples},
                    {"epochs_per_method", epochs}, {"minutes_cap", minutes}, {"threads", threads},
                    {"learning_rate", learning_rate}, {"kl_warmup_steps", kl_warmup},
                    {"prior_variance", weights.prior_variance()},
                    {"initial_log_std", weights.initial_log_std()},
                    {"max_std", weights.max_std()}, {"uncapped_kl", uncapped_kl},
                    {"flow_steps_q", noise.flow_steps_q()}, {"flow_steps_r", noise.flow_steps_r()},
                    {"seed", seed},
                    {"train_size", train.x.size(0)}, {"test_size", test.x.size(0)}};
    std::vector<dp::Line> cdfs;
    if (rank == 0)
      std::printf("%-11s %7s %7s %8s %7s %7s %8s%s\n", "method", "steps", "epochs", "error %",
                  "NLL", "ECE %", "seconds", ood ? "  median OOD entropy" : "");
    for (const auto& method : methods) {
      torch::manual_seed(seed);
      auto options =
          bnn::NetworkOptions(bnn::parse_posterior(method)).weights(weights).noise(noise);
      auto net = arch == "mlp" ? bnn::mlp({784, 300, 100, classes}, options)
                               : bnn::lenet5({1, 28, 28}, classes, options);
      // Weight noise comes from the global generator: one stream per rank
      // (rank 0's weights are broadcast, so only the noise differs).
      if (rank > 0) torch::manual_seed(diffeo::train::stream_seed(seed, -1 - rank));
      auto report = bnn::train(
          net, train.x, train.y, bnn::categorical_likelihood(),
          bnn::TrainOptions()
              .steps(epochs * (train.x.size(0) / 100))
              .time_limit(minutes * 60)
              .batch_size(100)
              .learning_rate(learning_rate)
              .kl_warmup_steps(kl_warmup)
              .seed(seed)
              .process_group(group)
              .on_step([&](int64_t step, const bnn::ElboTerms& terms) {
                if (rank == 0 && step % 1000 == 0)
                  std::fprintf(stderr, "%s step %lld: -ELBO/N %.4f nll %.4f kl/N %.4f\n",
                               method.c_str(), (long long)step, terms.loss.item<double>(),
                               terms.nll.item<double>(),
                               terms.kl.item<double>() / train.x.size(0));
              }));
      if (rank != 0) continue;  // rank 0 evaluates and writes
      const double epochs_done = report.steps * 100.0 / train.x.size(0);
      const auto scores =
          bnn::classification_scores(bnn::predictive_probabilities(net, test.x, samples), test.y);
      json row = {{"steps", report.steps}, {"epochs", epochs_done}, {"train_seconds", report.seconds},
                  {"test_error", scores.error}, {"test_nll", scores.nll}, {"test_ece", scores.ece},
                  {"final_loss", report.loss.empty() ? 0.0 : report.loss.back()}};
      std::string median_text;
      if (ood) {
        auto entropy = bnn::predictive_entropy(bnn::predictive_probabilities(net, unseen.x, samples));
        auto sorted = std::get<0>(entropy.sort());
        auto fraction = torch::arange(1, sorted.numel() + 1, torch::kFloat64) / sorted.numel();
        cdfs.push_back({values(sorted), values(fraction), method});
        const double median = sorted[sorted.numel() / 2].item<double>();
        row["ood_entropy_median"] = median;
        row["ood_entropy_mean"] = entropy.mean().item<double>();
        auto in_entropy = bnn::predictive_entropy(bnn::predictive_probabilities(net, test.x, samples));
        row["in_distribution_entropy_mean"] = in_entropy.mean().item<double>();
        char text[64];
        std::snprintf(text, sizeof text, "  %.3f (max %.3f)", median, std::log(double(classes)));
        median_text = text;
        std::ofstream csv(out + "/ood_entropy_" + method + ".csv");
        csv << "entropy\n";
        for (double v : values(sorted)) csv << v << "\n";
      }
      std::printf("%-11s %7lld %7.1f %8.2f %7.4f %7.2f %8.0f%s\n", method.c_str(),
                  (long long)report.steps, epochs_done, 100 * scores.error, scores.nll,
                  100 * scores.ece, report.seconds, median_text.c_str());
      std::fflush(stdout);
      results["methods"][method] = row;
    }
    if (rank != 0) return 0;
    if (ood) {
      dp::Figure figure(1, 1, 700, 500,
                        "Fashion-MNIST, trained on classes 0-4: entropy on classes 5-9");
      figure.lines(0, 0, cdfs, {"", "predictive entropy (nats)", "fraction of unseen images"});
      figure.save(out + "/ood_entropy_cdf.png");
    }
    diffeo::AtomicFile file(out + "/results.json", "mnf_fashion");
    std::ofstream(file.temporary()) << results.dump(2) << "\n";
    file.commit();
    std::printf("wrote %s/results.json\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnf_fashion: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
