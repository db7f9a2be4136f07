// Trains flows on the toy densities and reports test NLL against each
// density's entropy (the floor any model can reach): the numbers in
// docs/results.md.
//
//   toy_zoo [--flows maf,realnvp,nsf,glow] [--densities banana,...]
//           [--steps N] [--batch-size B] [--lr R] [--test-n N] [--seed S]
//           [--threads T] [--json FILE] [--targets half_circle,u1,...]
//           [--layers L] [--bins K] [--bound B]
//
// With --targets, each flow is instead fitted by reverse KL to each
// unnormalised target, and the reported loss is KL(q || p) - log Z.
//
// Every run uses the library's default FlowOptions and FitOptions except for
// what is given here.  Test NLL and entropy use the same fresh test samples,
// so their difference (the KL from the truth to the model) has a small
// standard error.

#include <diffeo/diffeo.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace df = diffeo;

namespace {}  // namespace

int main(int argc, char** argv) {
  std::string flows = "maf,realnvp,nsf,glow";
  std::string densities = "banana,gaussian_blobs,energy1,energy2,energy3,energy4";
  df::train::FitOptions fit_options;
  df::flows::FlowOptions flow_options(2);
  int64_t test_n = 100000, threads = 1;
  uint64_t seed = 0;
  std::string json_path, targets;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--flows")
      flows = value;
    else if (key == "--densities")
      densities = value;
    else if (key == "--steps")
      fit_options.steps(std::stoll(value));
    else if (key == "--batch-size")
      fit_options.batch_size(std::stoll(value));
    else if (key == "--lr")
      fit_options.learning_rate(std::stod(value));
    else if (key == "--test-n")
      test_n = std::stoll(value);
    else if (key == "--layers")
      flow_options.layers(std::stoll(value));
    else if (key == "--bins")
      flow_options.bins(std::stoll(value));
    else if (key == "--bound")
      flow_options.bound(std::stod(value));
    else if (key == "--seed")
      seed = std::stoull(value);
    else if (key == "--threads")
      threads = std::stoll(value);
    else if (key == "--json")
      json_path = value;
    else if (key == "--targets")
      targets = value;
    else {
      std::fprintf(stderr, "toy_zoo: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(threads));
  fit_options.seed(seed);

  df::json results = df::json::array();
  if (!targets.empty()) {
    std::printf("| target | flow | KL - log Z | steps | seconds |\n|---|---|---|---|---|\n");
    for (const auto& target_name : df::split_list(targets)) {
      const auto& target = df::data::toy(target_name);
      for (const auto& flow_name : df::split_list(flows)) {
        auto flow = df::flows::build(flow_name, flow_options);
        auto report = df::train::fit_reverse_kl(flow, target.unnormalized_log_prob, fit_options);
        std::printf("| %s | %s | %.4f | %lld | %.0f |\n", target_name.c_str(), flow_name.c_str(),
                    report.best_validation, static_cast<long long>(report.steps), report.seconds);
        std::fflush(stdout);
        results.push_back({{"target", target_name},
                           {"flow", flow_name},
                           {"kl_minus_log_z", report.best_validation},
                           {"steps", report.steps},
                           {"seconds", report.seconds}});
      }
    }
    densities.clear();
  } else {
    std::printf("| density | flow | test NLL | entropy | gap (KL) | steps | seconds |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
  }
  for (const auto& density_name : df::split_list(densities)) {
    const auto& density = df::data::toy(density_name);
    auto test = density.sample(test_n, at::make_generator<at::CPUGeneratorImpl>(seed + 1000));
    for (const auto& flow_name : df::split_list(flows)) {
      // Like `diffeo train --density`: the flow models standardised data and
      // remembers the standardisation (samples come back in data units).
      auto [flow, report] = df::train::fit_toy(flow_name, density, flow_options, fit_options);
      const auto scores = df::train::compare_with_truth(flow, test, density.log_prob);
      const auto &nll = scores.nll, &entropy = scores.entropy, &gap = scores.kl;
      std::printf("| %s | %s | %.4f ± %.4f | %.4f ± %.4f | %.4f ± %.4f | %lld | %.0f |\n",
                  density_name.c_str(), flow_name.c_str(), nll.mean, nll.standard_error,
                  entropy.mean, entropy.standard_error, gap.mean, gap.standard_error,
                  static_cast<long long>(report.steps), report.seconds);
      std::fflush(stdout);
      results.push_back({{"density", density_name},
                         {"flow", flow_name},
                         {"test_nll", nll.mean},
                         {"test_nll_se", nll.standard_error},
                         {"entropy", entropy.mean},
                         {"entropy_se", entropy.standard_error},
                         {"gap", gap.mean},
                         {"gap_se", gap.standard_error},
                         {"steps", report.steps},
                         {"seconds", report.seconds}});
    }
  }
  if (!json_path.empty()) std::ofstream(json_path) << results.dump(1) << "\n";
  return 0;
}
