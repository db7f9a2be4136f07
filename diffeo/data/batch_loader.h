#pragma once
// Shuffled mini-batches over tensors that share their first dimension.

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace diffeo::data {

/// Iterates mini-batches over tensors with the same number of rows (dimension
/// 0), e.g. images and their labels: next() returns the same rows of each, so
/// they stay aligned.  At the start of every epoch the rows are shuffled with
/// the loader's own CPU generator seeded by `seed` (the global generator is
/// untouched), so the same seed gives the same sequence of batches, and every
/// row appears exactly once per epoch.  A batch gathers only its own rows
/// (index_select), never a shuffled copy of the whole set, on each tensor's
/// device.  With drop_last (the default) every batch has batch_size rows and
/// the size % batch_size rows left over in an epoch are skipped (different
/// ones each epoch); without it the last batch of an epoch is smaller.  Not
/// thread-safe: one loader per thread.
class BatchLoader {
 public:
  /// Throws diffeo::Error for an empty list, an undefined or 0-dim tensor,
  /// tensors whose dimension 0 differs, and batch_size outside 1..size().
  BatchLoader(std::vector<torch::Tensor> tensors, int64_t batch_size, uint64_t seed,
              bool drop_last = true);

  /// The next batch: one tensor per input, in the input order, each
  /// [batch, ...]; after an epoch's last batch it reshuffles and goes on.
  std::vector<torch::Tensor> next();

  /// Epochs completed so far: 0 until the first epoch's last batch has been
  /// returned, so `while (loader.epoch() < n) loader.next();` runs n epochs.
  int64_t epoch() const { return epoch_; }

  /// Batches per epoch: size / batch_size, rounded up without drop_last.
  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  /// The number of rows (the tensors' dimension 0).
  int64_t size() const { return size_; }

 private:
  std::vector<torch::Tensor> tensors_;
  int64_t size_, batch_size_, batches_per_epoch_;
  at::Generator generator_;
  torch::Tensor order_;  // this epoch's permutation of 0..size-1
  int64_t epoch_ = 0, batch_ = 0;
};

}  // namespace diffeo::data
