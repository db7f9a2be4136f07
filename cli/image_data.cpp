#include "image_data.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/data/dequantize.h"
#include "diffeo/data/image_files.h"
#include "diffeo/data/npy.h"
#include "diffeo/data/table.h"
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

bool is_image_data(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error)) return true;
  if (!data::has_extension(path, ".npy")) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;  // the table reader reports the missing file
  std::string head(1 << 16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  try {
    return data::parse_npy_header(head, "'" + path + "'").shape.size() >= 3;
  } catch (const Error&) {
    return false;  // not an NPY file the header parser reads: the table reader says why
  }
}

data::ImageSet load_user_images(const std::string& path, const std::string& labels_csv,
                                int64_t downsample, const std::string& command,
                                std::vector<std::string>* class_names) {
  require_positive(downsample, "--downsample", command);
  class_names->clear();
  data::ImageSet set;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(path)) {
    auto folder = data::read_image_folder(path);
    if (!folder.ignored.empty())
      std::cerr << "diffeo: " << command << ": ignored " << folder.ignored.size()
                << " entries of '" << path << "' that are not PNG files (the first: '"
                << folder.ignored.front() << "')\n";
    set = folder;
    *class_names = folder.classes;
    files = folder.files;
  } else {
    set.images = data::read_image_array(path);
  }
  if (!labels_csv.empty()) {
    const auto labels = files.empty() ? data::read_labels_csv(labels_csv, set.images.size(0))
                                      : data::read_labels_csv(labels_csv, files);
    set.labels = labels.labels;
    *class_names = labels.classes;
  }
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
  info->source = reader.get<std::string>("source", "");
  info->class_names = reader.get<std::vector<std::string>>("class_names", {});
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
