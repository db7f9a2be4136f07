#pragma once
// `diffeo train`'s checkpoints: where they go, pausing, resuming, Ctrl-C.

#include <stdexcept>
#include <string>

#include "diffeo/train/fit.h"
#include "train_args.h"

namespace diffeo::cli {

/// A run stopped by SIGINT/SIGTERM after saving its checkpoint: main prints
/// the message and exits 128 + signal (130 for Ctrl-C), as a shell would.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(const std::string& message, int signal)
      : std::runtime_error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

/// The run's checkpoint file: --checkpoint, or --out with ".ckpt" appended.
std::string checkpoint_path(const TrainArgs& a);

/// Checks the checkpoint options (usage errors) and, with --resume, that the
/// checkpoint exists; checks that it can be written.
void check_checkpoint_options(const TrainArgs& a, const std::string& command);

/// `options` with the run's checkpoint file, interval, --stop-after,
/// --resume and signal handling.
train::FitOptions with_checkpoints(train::FitOptions options, const TrainArgs& a);

/// After fit: true for a run paused by --stop-after (it prints where the
/// checkpoint is: the caller saves nothing); throws Interrupted for a run
/// stopped by a signal; false for a finished run.  Ranks other than 0 of a
/// data-parallel run stay silent.
bool paused(const train::FitReport& report, const TrainArgs& a, int rank = 0);

/// Removes the checkpoint of a finished run once its model is saved.
void remove_checkpoint(const TrainArgs& a);

}  // namespace diffeo::cli
