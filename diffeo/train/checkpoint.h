#pragma once
// Training checkpoints: what train::fit saves to continue a run exactly.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "diffeo/core/spec.h"
#include "diffeo/train/fit.h"

namespace diffeo::train {

/// The state of a fit between two steps: everything the loop needs to
/// continue so that the result is bit-identical to a run that never stopped
/// (same options, model and data; same LibTorch build and thread count).
/// Written by fit (FitOptions::checkpoint) as a checksummed diffeo file
/// (io/archive.h, format "diffeo-checkpoint/1"), atomically, so a crash
/// while saving leaves the previous checkpoint intact.
struct FitCheckpoint {
  /// The options that shape the run (fit_fingerprint); resuming with others is refused.
  json options;
  /// What identifies the training data (rows, shape, checksum), or null.
  json data;
  int64_t step = 0;  // steps done
  FitReport report;  // so far; report.seconds is the training time so far
  int64_t bad_in_a_row = 0, since_improvement = 0;
  double last_validation = NAN;
  /// The batch generator (at::Generator::get_state): [state] in one process,
  /// [world_size, state] (each rank's stream) in a data-parallel run.
  torch::Tensor generator_state;
  std::vector<std::pair<std::string, torch::Tensor>> model;  // parameters and buffers by name
  std::vector<torch::Tensor> best;  // the best-validation snapshot (parameters, buffers)
  int64_t adam_steps = 0;
  std::vector<torch::Tensor> first_moments, second_moments;  // per FlatAdam group
};

/// The FitOptions fields a resumed run must share with the checkpoint's.
json fit_fingerprint(const FitOptions& options);

/// Writes `checkpoint` to `path` atomically; diffeo::Error on failure (the
/// previous file at `path`, if any, is then untouched).
void write_checkpoint(const FitCheckpoint& checkpoint, const std::string& path);

/// Reads a file written by write_checkpoint; diffeo::Error naming `path` for
/// a missing, damaged or foreign file (a model file says so).
FitCheckpoint read_checkpoint(const std::string& path);

}  // namespace diffeo::train
