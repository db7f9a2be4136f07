#pragma once
// What the subcommands share for image data sets: loading a split as the
// model saw it, loading an image model, and drawing its sample grids.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "diffeo/data/fashion_mnist.h"
#include "diffeo/flows/flow.h"
#include "diffeo/plot/image_grid.h"

namespace diffeo::cli {

/// The image data sets the command line knows ("fashion-mnist").
const std::vector<std::string>& image_dataset_names();

/// Split `split` ("train" / "test") of image data set `dataset` from
/// `directory` (empty: the default), average-pooled by `downsample` (1: none).
/// UsageError for an unknown data set name.
data::ImageSet load_image_split(const std::string& dataset, const std::string& split,
                                const std::string& directory, int64_t downsample,
                                const std::string& command);

/// Whether --data `path` holds images rather than a table: a directory (of
/// PNG files), or an NPY file whose array has 3 or 4 dimensions.
bool is_image_data(const std::string& path);

/// A user's images from --data `path` (a PNG folder or an NPY image array,
/// data/image_files.h), average-pooled by `downsample` as load_image_split
/// does, with labels from `labels_csv` when given (one per image in order, or
/// "file,label" rows for a folder), else from a folder's class sub-folders.
/// `class_names` receives the classes' names (empty without labels).
data::ImageSet load_user_images(const std::string& path, const std::string& labels_csv,
                                int64_t downsample, const std::string& command,
                                std::vector<std::string>* class_names);

/// The spec's "data" entry of a flow trained by `diffeo train --dataset` or
/// on the user's images (dataset "files", `source` the --data path).
struct ImageModelInfo {
  std::string dataset;
  int64_t downsample = 1;
  int64_t classes = 0;  // > 0: class-conditional (one-hot context)
  std::string source;   // dataset "files": where the training images came from
  std::vector<std::string> class_names;
};

/// Loads a model written by `diffeo train --dataset` (eval mode), or a
/// diffeo::Error saying that `path` is not an image model.
flows::Flow load_image_model(const std::string& path, const std::string& command,
                             ImageModelInfo* info);

/// n samples of an image model as [n, C, H, W] in [0, 1], drawn with `seed`
/// at `temperature`; a class-conditional model draws class `label` for all
/// of them, or, for label -1, class i % classes for sample i, so a grid of
/// `classes` columns shows one class per column.
torch::Tensor image_samples(flows::Flow flow, const ImageModelInfo& info, int64_t n, uint64_t seed,
                            double temperature, int64_t label = -1);

/// Writes image_samples as a PNG grid (`classes` columns for a conditional
/// model over every class, else square) and returns the picture for
/// animations.
plot::Image write_sample_grid(flows::Flow flow, const ImageModelInfo& info, int64_t n,
                              uint64_t seed, double temperature, const std::string& path,
                              int64_t label = -1);

}  // namespace diffeo::cli
