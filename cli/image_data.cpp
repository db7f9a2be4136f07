#include "image_data.h"

#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/data/dequantize.h"
#include "diffeo/io/save_load.h"
#include "diffeo/train/image_training.h"

namespace diffeo::cli {

const std::vector<std::string>& image_dataset_names() {
  static const std::vector<std::string> names{"fashion-mnist"};
  return names;
}

data::ImageSet load_image_split(const std::string& dataset, const std::string& split,
                                const std::string& directory, int64_t downsample,
                                const std::string& command) {
  if (dataset != "fashion-mnist")
    throw UsageError(command, "unknown image data set '" + dataset + "'; known: fashion-mnist");
  require_positive(downsample, "--downsample", command);
  auto set = directory.empty() ? data::fashion_mnist(split) : data::fashion_mnist(split, directory);
  if (downsample > 1) set.images = data::downsample_images(set.images, downsample);
  return set;
}

flows::Flow load_image_model(const std::string& path, const std::string& command,
                             ImageModelInfo* info) {
  auto flow = io::load(path);
  const auto& spec = flow->spec();
  if (!spec.contains("data") || !spec.contains("logit") ||
      flow->flow_options().image_shape().empty())
    throw Error(command + ": '" + path +
                "' is not an image model (train one with 'diffeo train --dataset ...')");
  SpecReader reader(spec.at("data"), "'" + path + "' spec 'data'");
  info->dataset = reader.require<std::string>("dataset");
  info->downsample = reader.get<int64_t>("downsample", 1);
  info->classes = reader.get<int64_t>("classes", 0);
  reader.finish();
  if (info->classes != flow->flow_options().context_features())
    throw Error(command + ": '" + path + "' spec: 'data' has " + std::to_string(info->classes) +
                " classes but the flow takes " +
                std::to_string(flow->flow_options().context_features()) + " context features");
  flow->eval();
  return flow;
}

torch::Tensor image_samples(flows::Flow flow, const ImageModelInfo& info, int64_t n, uint64_t seed,
                            double temperature, int64_t label) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Tensor context;
  if (info.classes > 0) {
    const auto labels = label >= 0 ? torch::full({n}, label, torch::kLong)
                                   : torch::arange(n, torch::kLong) % info.classes;
    context = train::one_hot(labels, info.classes);
  }
  return train::sample_images(flow, n, generator, temperature, context);
}

plot::Image write_sample_grid(flows::Flow flow, const ImageModelInfo& info, int64_t n,
                              uint64_t seed, double temperature, const std::string& path,
                              int64_t label) {
  auto grid = plot::image_grid(image_samples(flow, info, n, seed, temperature, label),
                               plot::ImageGridOptions().columns(label >= 0 ? 0 : info.classes));
  plot::save_png(grid, path);
  return grid;
}

}  // namespace diffeo::cli
