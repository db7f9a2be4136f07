#pragma once
// Data-parallel `diffeo train`: the launcher (--nproc) and the worker side.

#include <string>

#include "diffeo/distributed/collectives.h"
#include "train_args.h"

namespace diffeo::cli {

/// Whether this `diffeo train` starts workers (--nproc) instead of training.
bool launches_workers(const TrainArgs& a);

/// --nproc N: runs this same command line (without the launcher's options) as
/// N worker processes of this machine, ranks node_rank * N .. node_rank * N +
/// N - 1 of nnodes * N, with torchrun's variables set (a free loopback port
/// for a one-machine run), and waits for them.  Ctrl-C and SIGTERM are passed
/// on once to every worker, which stop together with a checkpoint; a worker
/// that dies (a signal, a non-zero exit) ends the run: the others are stopped
/// (SIGTERM, then SIGKILL after 10 s) and an Error names the rank, the cause
/// and the checkpoint to resume from.  Workers die with the launcher.
void launch_workers(const TrainArgs& a, const std::string& command);

/// The rank of this process in its run (0 without one): only rank 0 writes
/// the model, the history, the grids and prints the summary.
int rank_of(const distributed::ProcessGroup& group);

}  // namespace diffeo::cli
