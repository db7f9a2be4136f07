#pragma once
// The options of `diffeo train`, shared by its toy/table path (train_command.cpp)
// and its image path (train_images.cpp).

#include <cstdint>
#include <string>

namespace diffeo::cli {

/// The command name train_command.cpp and train_images.cpp report errors under.
inline constexpr const char* kTrainCommand = "train";

/// `diffeo train`'s command line.  Zero or empty numeric/width fields mean
/// "the default of the chosen path": toy densities and tables use the
/// library's FitOptions / FlowOptions defaults, image data sets per-flow
/// defaults sized for a 2-core machine (train_images.cpp).
struct TrainArgs {
  std::string flow = "maf", density, data, dataset, out, history, hidden, transform;
  std::string target_cols, context_cols;  // 1-based column lists for --data
  int64_t steps = 0, batch_size = 0, layers = 0, bins = 0, order = 0, threads = 1;
  double learning_rate = 0;
  uint64_t seed = 0;
  bool quiet = false;
  bool drop_nonfinite = false;  // --data: drop rows holding NaN or infinite values
  // Checkpoints (checkpointing.h).
  std::string checkpoint;
  int64_t checkpoint_every = 0, stop_after = 0;
  double checkpoint_minutes = 10;
  bool resume = false;
  // Image data sets (--dataset).
  std::string data_dir, grid_dir, gif, labels;
  double minutes = 0, snapshot_minutes = 0, lambda = 1e-6, temperature = 1.0;
  // validation -1: the default (2000 images of a data set, 10% of the user's).
  int64_t levels = 0, grid_every = 0, downsample = 1, validation = -1;
  bool conditional = false;
  // Data-parallel runs (launcher.h): workers on this machine, machines, rendezvous.
  int64_t nproc = 0, nnodes = 1, node_rank = 0;
  std::string master_addr;
  int master_port = 0;
};

/// `diffeo train --dataset NAME` or `--data` with images (a PNG folder or an
/// NPY image array): a flow on 8-bit images (train_images.cpp).
void train_on_images(const TrainArgs& args);

}  // namespace diffeo::cli
