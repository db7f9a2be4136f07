#pragma once
// Where train::fit's batches come from: a data set, fresh draws, or none.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "diffeo/core/spec.h"
#include "diffeo/distributed/collectives.h"

namespace diffeo::train {

/// A source of batches for train::fit.  Each step fit asks for this rank's
/// shard of a global batch; a source must give every rank the same global
/// batch (data sets) or independent draws from the rank's own generator
/// (samplers), never depend on how often it was called before (a resumed run
/// asks for step k first), and keep all state it needs in the generator or
/// the step number.
class DataSource {
 public:
  virtual ~DataSource() = default;
  /// The columns of rows [shard.offset, shard.offset + shard.rows) of step
  /// `step`'s global batch of `global_rows` rows.  `seed` is the run's seed.
  virtual std::vector<torch::Tensor> batch(int64_t step, int64_t global_rows,
                                           const distributed::Shard& shard, uint64_t seed,
                                           at::Generator& generator) = 0;
  /// The global batch's rows for option batch_size (a data set caps it at its size).
  virtual int64_t global_rows(int64_t batch_size) const { return batch_size; }
  /// What identifies the data in checkpoints, so that resuming on other data
  /// is refused (null: fresh draws, which the generator's state covers).
  virtual json fingerprint() const { return nullptr; }
};

/// A fixed data set of named columns of equal row count (e.g. {"data", x},
/// {"context", c}, all on one device; an undefined column stays undefined in
/// every batch):
/// shuffled minibatches, epoch after epoch, as PyTorch's DistributedSampler
/// would split them.  Epoch e's order is a permutation drawn from its own
/// generator (stream_seed(seed, e)), shared by all ranks, so a batch is a
/// function of the step alone and a resumed run needs no shuffling state.
/// Each epoch uses floor(N / B) full batches; the rest of the order is skipped.
class TensorDataSet : public DataSource {
 public:
  explicit TensorDataSet(std::vector<std::pair<std::string, torch::Tensor>> columns);
  std::vector<torch::Tensor> batch(int64_t step, int64_t global_rows, const distributed::Shard& shard,
                                   uint64_t seed, at::Generator& generator) override;
  int64_t global_rows(int64_t batch_size) const override { return std::min(batch_size, rows_); }
  /// Each defined column's shape and CRC-32 of its values.
  json fingerprint() const override;
  int64_t rows() const { return rows_; }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> columns_;
  int64_t rows_ = 0;
  torch::Device device_ = torch::kCPU;  // every column's
  torch::Tensor order_;  // the current epoch's permutation, on device_
  int64_t order_epoch_ = -1;
};

/// Draws n rows (and their context, or an undefined tensor) from a generator.
using BatchSampler =
    std::function<std::pair<torch::Tensor, torch::Tensor>(int64_t n, at::Generator&)>;

/// Fresh batches from a sampler (a toy density, dequantised images): each
/// rank draws its shard's rows from its own generator.  Columns: the draws
/// and their context.
class SampledBatches : public DataSource {
 public:
  explicit SampledBatches(BatchSampler sampler) : sampler_(std::move(sampler)) {}
  std::vector<torch::Tensor> batch(int64_t step, int64_t global_rows, const distributed::Shard& shard,
                                   uint64_t seed, at::Generator& generator) override;

 private:
  BatchSampler sampler_;
};

/// No data, only a batch size: for objectives that draw their own batch
/// (reverse KL samples the model).  Batches have no columns.
class NoData : public DataSource {
 public:
  std::vector<torch::Tensor> batch(int64_t, int64_t, const distributed::Shard&, uint64_t,
                                   at::Generator&) override {
    return {};
  }
};

/// A seed for stream `stream` of a run seeded `seed` (splitmix64's
/// finaliser), unrelated to the run's own generator seeded `seed`: epoch
/// orders, the other ranks' streams.
uint64_t stream_seed(uint64_t seed, int64_t stream);

}  // namespace diffeo::train
