#include <torch/torch.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "diffeo/core/version.h"
#include "diffeo/io/save_load.h"

namespace diffeo::cli {

namespace {

void print_model(const std::string& path) {
  const auto flow = io::load(path);
  int64_t parameters = 0;
  for (const auto& p : flow->parameters()) parameters += p.numel();
  std::cout << "model       " << path << "\n"
            << "flow        " << flow->spec().at("flow").get<std::string>() << "\n"
            << "dim         " << flow->flow_options().dim() << "\n"
            << "parameters  " << parameters << "\n"
            << "dtype       " << dtype_name(model_dtype(flow)) << "\n"
            << "spec\n"
            << flow->spec().dump(2) << "\n";
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* info = app.add_subcommand(
      "info", "Print versions, threads and the compute backend, or describe a model file");
  auto model = std::make_shared<std::string>();
  info->add_option("--model", *model, "Model file to describe instead");
  info->callback([model] {
    if (!model->empty()) return print_model(*model);
    std::cout << "diffeo " << diffeo::version() << "\n"
              << "LibTorch " << TORCH_VERSION << "\n"
              << "intra-op threads " << torch::get_num_threads() << "\n"
              << "CUDA available " << (torch::cuda::is_available() ? "yes" : "no") << "\n";
  });
}

}  // namespace diffeo::cli
