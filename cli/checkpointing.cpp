#include "checkpointing.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common.h"
#include "diffeo/core/error.h"

namespace diffeo::cli {

std::string checkpoint_path(const TrainArgs& a) {
  return a.checkpoint.empty() ? a.out + ".ckpt" : a.checkpoint;
}

void check_checkpoint_options(const TrainArgs& a, const std::string& command) {
  if (a.checkpoint_every < 0 || a.stop_after < 0)
    throw UsageError(command, "--checkpoint-every and --stop-after must be >= 0 (0: never), got " +
                                  std::to_string(a.checkpoint_every) + " and " +
                                  std::to_string(a.stop_after));
  if (!(a.checkpoint_minutes >= 0) || !std::isfinite(a.checkpoint_minutes))
    throw UsageError(command, "--checkpoint-minutes must be >= 0 (0: never), got " +
                                  number(a.checkpoint_minutes));
  const auto path = checkpoint_path(a);
  if (a.resume && !std::filesystem::exists(path))
    throw Error(command + ": --resume: there is no checkpoint '" + path +
                "' (one is written when a run is interrupted, paused with --stop-after or "
                "every --checkpoint-minutes; --checkpoint names another file)");
  check_writable(path, "--checkpoint", command);
}

train::FitOptions with_checkpoints(train::FitOptions options, const TrainArgs& a) {
  return options.checkpoint(checkpoint_path(a))
      .checkpoint_every(a.checkpoint_every)
      .checkpoint_seconds(60 * a.checkpoint_minutes)
      .stop_after(a.stop_after)
      .resume(a.resume)
      .handle_signals(true);
}

bool paused(const train::FitReport& report, const TrainArgs& a, int rank) {
  // In a data-parallel run, rank 0 speaks for all.
  if (rank != 0) {
    if (report.stop_reason == "interrupted") throw Interrupted("", report.signal);
    return report.stop_reason == "paused";
  }
  const std::string at = "at step " + std::to_string(report.steps) + " of " +
                         (a.steps > 0 ? std::to_string(a.steps) : std::string("the run"));
  const std::string next = "; continue with the same command and --resume";
  if (report.stop_reason == "interrupted")
    throw Interrupted("train: interrupted " + at + "; checkpoint saved to '" + checkpoint_path(a) +
                          "'" + next,
                      report.signal);
  if (report.stop_reason != "paused") return false;
  std::cout << "paused " << at << " after " << seconds(report.seconds) << "; checkpoint saved to "
            << checkpoint_path(a) << next << "\n";
  return true;
}

void remove_checkpoint(const TrainArgs& a) { std::remove(checkpoint_path(a).c_str()); }

}  // namespace diffeo::cli
