#pragma once
// Training: the engine (fit over an objective and a data source) and the
// fits of distributions (maximum likelihood on data, reverse KL to targets).

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "diffeo/core/spec.h"
#include "diffeo/distributed/collectives.h"
#include "diffeo/distributions/distribution.h"
#include "diffeo/train/data_source.h"
#include "diffeo/train/objective.h"

namespace diffeo::train {

/// Options of fit and fit_reverse_kl, TORCH_ARG style.
struct FitOptions {
  TORCH_ARG(int64_t, steps) = 5000;
  /// Stop after this many seconds of training (0: no limit); time spent in
  /// on_step is not counted.  The cosine schedule then follows whichever of
  /// steps or time runs out first.
  TORCH_ARG(double, time_limit) = 0;
  TORCH_ARG(int64_t, batch_size) = 256;
  /// Adam's learning rate at the start.
  TORCH_ARG(double, learning_rate) = 1e-3;
  /// "cosine" (decay to 1% of the rate over the run) or "constant".
  TORCH_ARG(std::string, schedule) = "cosine";
  /// Clip the gradient's global norm to this (0: no clipping).
  TORCH_ARG(double, clip_grad_norm) = 5.0;
  /// Evaluate the validation set every this many steps (0: never).
  TORCH_ARG(int64_t, validate_every) = 250;
  /// Stop after this many validations without improvement (0: never).  The
  /// best parameters seen by validation are restored at the end either way.
  TORCH_ARG(int64_t, patience) = 0;
  /// Seeds the batches (and the validation set drawn from a sampler).
  TORCH_ARG(uint64_t, seed) = 0;
  /// Progress on stderr: a bar on a terminal, else a log line every log_every steps.
  TORCH_ARG(bool, progress) = false;
  TORCH_ARG(int64_t, log_every) = 250;
  /// Where progress lines go instead of stderr (e.g. Python's sys.stderr):
  /// each call is one log line ending in '\n' ("step 250/5000 loss 1.2345
  /// validation 1.3000"), written every log_every steps and at the end, as
  /// on a stderr that is not a terminal (no bar).  Called on rank 0 only, from
  /// the thread that runs fit; an exception it throws ends the fit.
  TORCH_ARG(std::function<void(const std::string& line)>, progress_sink) = nullptr;
  /// Stop with an error after this many consecutive non-finite steps.
  TORCH_ARG(int64_t, max_bad_steps) = 20;
  /// Called after every applied step with the step number and the batch loss
  /// (e.g. to draw the frames of a training animation); the model is in
  /// training mode, so switch off autograd when evaluating it there.
  TORCH_ARG(std::function<void(int64_t step, double loss)>, on_step) = nullptr;
  /// Training checkpoints (train/checkpoint.h): the file written every
  /// checkpoint_every steps, every checkpoint_seconds of training and when the
  /// run is paused or interrupted (empty: never).  The file stays after the
  /// run; delete it once the model is saved.
  TORCH_ARG(std::string, checkpoint) = "";
  TORCH_ARG(int64_t, checkpoint_every) = 0;
  TORCH_ARG(double, checkpoint_seconds) = 0;
  /// Continue the run saved in `checkpoint` instead of starting afresh.  With
  /// the same model (rebuilt the same way), data and options the result is
  /// bit-identical to a run that never stopped; a checkpoint written with
  /// other options, another model or other data is refused.
  TORCH_ARG(bool, resume) = false;
  /// Pause after this step (0: never): write the checkpoint and return with
  /// stop_reason "paused"; the schedule still spans all `steps`.
  TORCH_ARG(int64_t, stop_after) = 0;
  /// While fitting, SIGINT (Ctrl-C) and SIGTERM finish the current step, write
  /// the checkpoint (if any) and return with stop_reason "interrupted" and
  /// FitReport::signal set; a second signal kills the process as usual.
  TORCH_ARG(bool, handle_signals) = false;
  /// Data-parallel training over this c10d process group (distributed::join,
  /// docs/distributed.md); none: one process.  batch_size stays the global
  /// batch: each rank takes its shard of every batch (data sets: the shared
  /// epoch order, sliced; samplers and reverse KL: shard-sized draws from a
  /// stream of its own, rank 0's being the seed's), rank 0's weights are
  /// broadcast first, gradients are summed over ranks before clipping, and the
  /// NaN guard, time limit, validation, early stopping and signals act on
  /// values agreed by all ranks, so all take the same decisions.  Only rank 0
  /// prints progress and writes checkpoints; on_step runs on every rank.  On a
  /// data set the run equals the one-process run with the same seed, up to
  /// the order of floating-point sums.  A layer with data-dependent
  /// initialisation (ActNorm) is initialised by rank 0 from the whole first
  /// global batch, as one process would, then broadcast; BatchNorm normalises
  /// by the global batch's statistics (distributed::GroupAware).  Validation
  /// is split over the ranks.  Checkpoints hold every rank's stream, so a run
  /// resumed with as many ranks is exact.
  TORCH_ARG(distributed::ProcessGroup, process_group) = {};
  /// Under data parallelism, the gradients are summed in buckets of about
  /// this many bytes, each as soon as backward has produced it, so that
  /// communication overlaps the rest of the backward pass (GradientBuckets).
  /// The default, PyTorch DDP's, keeps the models here in one bucket: on 2
  /// cores busy with 2 ranks, smaller buckets measured slower (the
  /// communication thread has no idle core to run on; docs/distributed.md).
  TORCH_ARG(int64_t, bucket_bytes) = 25 << 20;
};

/// What a fit did: the loss per step, validation losses, why it stopped.
struct FitReport {
  std::vector<double> train_loss;                           // per step (NaN if skipped)
  std::vector<std::pair<int64_t, double>> validation_loss;  // (step, loss)
  int64_t steps = 0;
  int64_t skipped_steps = 0;  // non-finite loss or gradient: not applied
  double best_validation = 0;
  /// "steps", "early stopping", "time limit", or with checkpoints "paused"
  /// (stop_after) or "interrupted" (a signal).  A paused or interrupted fit
  /// leaves the model at its last step's weights (not the best validation's).
  std::string stop_reason;
  int signal = 0;      // the signal of an "interrupted" run (SIGINT, SIGTERM)
  double seconds = 0;  // training time, without the on_step callbacks (resumed runs: in all)

  json to_json() const;
  /// The history as JSON ({"train_loss": [...], ...}) or CSV (step,train_loss,validation_loss).
  void write(const std::string& path) const;
};

/// The training engine: minimises `objective`'s loss over batches from
/// `source` with FlatAdam, the schedule, clipping, the NaN guard, validation
/// with early stopping and best weights, progress, checkpoints with
/// bit-identical resume, signals and data parallelism, all as FitOptions
/// says.  Every other fit is this one with a ready-made objective and source.
FitReport fit(Objective& objective, DataSource& source, const FitOptions& options);

/// Maximum likelihood on batches from `source` (e.g. ImageBatches), with an
/// optional validation set [n, event...] (and its context) evaluated in
/// chunks without autograd.
FitReport fit(Distribution model, DataSource& source, const FitOptions& options,
              const torch::Tensor& validation = {}, const torch::Tensor& validation_context = {});

/// Maximum likelihood with fresh batches from `sampler` (e.g. a toy density);
/// the validation set is one batch of 8192 drawn up front with seed + 1.
FitReport fit(Distribution model, const BatchSampler& sampler, const FitOptions& options);

/// The same with a given validation set [n, event...] (and its context), e.g.
/// held-out images while the sampler dequantises fresh training batches.  The
/// validation loss is evaluated in chunks without autograd.
FitReport fit(Distribution model, const BatchSampler& sampler, const FitOptions& options,
              const torch::Tensor& validation, const torch::Tensor& validation_context = {});

/// Maximum likelihood on a data set `data` [N, event...] with optional
/// per-row `context` [N, features]: shuffled minibatches, epoch after epoch
/// (each epoch's order drawn from the seed and the epoch number).
/// `validation` / `validation_context` (optional) drive early stopping.
FitReport fit(Distribution model, const torch::Tensor& data, const FitOptions& options,
              const torch::Tensor& context = {}, const torch::Tensor& validation = {},
              const torch::Tensor& validation_context = {});

/// Fits `model` to an unnormalised target density by minimising the reverse
/// KL, E_q[log q(x) - log p~(x)] with x ~ q reparameterised.  The losses are
/// KL(q || p) - log Z, the reverse KL up to the target's unknown log
/// normaliser.  The validation loss uses 8192 draws with seed + 1.
FitReport fit_reverse_kl(Distribution model,
                         const std::function<torch::Tensor(const torch::Tensor&)>& target_log_prob,
                         const FitOptions& options);

}  // namespace diffeo::train
