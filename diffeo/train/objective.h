#pragma once
// What train::fit optimises: a module and a loss computed from a batch.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace diffeo::train {

/// One step's batch as an objective sees it: this process's rows of the
/// global batch (all of it in one process), one tensor per column of the data
/// source (undefined where a column is absent, e.g. no context; none for a
/// source that only says how many rows to draw, as in reverse KL).
struct Batch {
  std::vector<torch::Tensor> columns;
  int64_t step = 0;         // 1-based, as FitReport counts steps
  int64_t rows = 0;         // this rank's rows
  int64_t global_rows = 0;  // the global batch's rows (== rows in one process)

  /// The column `i`, or an undefined tensor past the last one.
  torch::Tensor column(size_t i) const { return i < columns.size() ? columns[i] : torch::Tensor(); }
  /// This rank's share of the global batch's mean of `per_row` values [rows]:
  /// their mean in one process, their sum / global_rows under data
  /// parallelism, so the ranks' shares (and their gradients) add up to the
  /// global mean exactly, however the rows are split.
  torch::Tensor mean(const torch::Tensor& per_row) const {
    return rows == global_rows ? per_row.mean() : per_row.sum() / static_cast<double>(global_rows);
  }
  /// rows / global_rows: the weight of a term computed once per rank (a KL
  /// penalty), so that the ranks' terms add up to it once.
  double share() const { return static_cast<double>(rows) / static_cast<double>(global_rows); }
};

/// A sum of per-row losses over some rows, and how many rows.
struct LossSum {
  double sum = 0;
  int64_t rows = 0;
};

/// A training objective: the module whose parameters train::fit optimises
/// (broadcast from rank 0, snapshotted for the best validation, saved in
/// checkpoints, switched between train() and eval()) and the loss it
/// minimises.  Maximum likelihood and reverse KL for flows (flow_objectives.h)
/// and the ELBO of Bayesian networks (bnn/elbo_objective.h) are objectives;
/// write one for any other loss.  The objective must outlive the fit.
class Objective {
 public:
  virtual ~Objective() = default;
  /// The trained module.
  virtual torch::nn::Module& module() = 0;
  /// The loss of `batch` (Batch::mean of per-row losses, so that data
  /// parallelism stays exact), with autograd.  `generator` is this rank's own
  /// stream for anything the loss draws (samples of the model, noise).
  virtual torch::Tensor loss(const Batch& batch, at::Generator& generator) = 0;
  /// The held-out loss of this rank's part of the validation data, as the
  /// sum of its per-row losses and their count, without autograd, called in
  /// eval mode every FitOptions::validate_every steps.  fit sums these over
  /// the ranks and divides: each rank evaluates its share (in one process:
  /// rank 0 of 1, all of it).  An objective whose validation cannot be split
  /// lets rank 0 evaluate all of it and the others return {0, 0}.  The
  /// default, {NaN, 0}: no validation.
  virtual LossSum validation_sum(int rank, int world_size) {
    (void)rank, (void)world_size;
    return {NAN, 0};
  }
};

}  // namespace diffeo::train
