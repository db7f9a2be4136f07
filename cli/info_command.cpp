#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "diffeo/core/version.h"

namespace diffeo::cli {

void add_info_command(CLI::App& app) {
  auto* info = app.add_subcommand("info", "Print versions, threads and the compute backend");
  info->callback([] {
    std::cout << "diffeo " << diffeo::version() << "\n"
              << "LibTorch " << TORCH_VERSION << "\n"
              << "intra-op threads " << torch::get_num_threads() << "\n"
              << "CUDA available " << (torch::cuda::is_available() ? "yes" : "no") << "\n";
  });
}

}  // namespace diffeo::cli
