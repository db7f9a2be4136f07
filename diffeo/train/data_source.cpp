#include "diffeo/train/data_source.h"

#include <zlib.h>

#include "diffeo/core/error.h"

namespace diffeo::train {

uint64_t stream_seed(uint64_t seed, int64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(stream) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TensorDataSet::TensorDataSet(std::vector<std::pair<std::string, torch::Tensor>> columns)
    : columns_(std::move(columns)) {
  std::string first;  // the first defined column, which the others must match
  for (const auto& [name, tensor] : columns_) {
    if (!tensor.defined()) continue;
    if (tensor.dim() == 0)
      throw Error("fit: argument '" + name + "' must have a row dimension, got a scalar");
    if (rows_ == 0) {
      rows_ = tensor.size(0);
      if (rows_ == 0) throw Error("fit: argument '" + name + "' has no rows");
      first = name;
      device_ = tensor.device();
    } else if (tensor.size(0) != rows_) {
      throw Error("fit: argument '" + name + "' has " + std::to_string(tensor.size(0)) +
                  " rows but '" + first + "' has " + std::to_string(rows_));
    } else if (tensor.device() != device_) {
      throw Error("fit: argument '" + name + "' is on " + tensor.device().str() + " but '" + first +
                  "' is on " + device_.str() + ": put them on one device");
    }
  }
  if (rows_ == 0) throw Error("fit: the data set has no columns");
}

std::vector<torch::Tensor> TensorDataSet::batch(int64_t step, int64_t global_rows,
                                                const distributed::Shard& shard, uint64_t seed,
                                                at::Generator&) {
  const int64_t per_epoch = rows_ / global_rows, epoch = (step - 1) / per_epoch;
  if (epoch != order_epoch_) {
    auto shuffle = at::make_generator<at::CPUGeneratorImpl>(stream_seed(seed, epoch));
    // Drawn on the CPU, as its generator is; kept where the data lie.
    order_ = torch::randperm(rows_, shuffle, torch::kLong).to(device_);
    order_epoch_ = epoch;
  }
  const auto index =
      order_.narrow(0, (step - 1) % per_epoch * global_rows + shard.offset, shard.rows);
  std::vector<torch::Tensor> batch;
  for (const auto& [name, column] : columns_)
    batch.push_back(column.defined() ? column.index_select(0, index) : torch::Tensor());
  return batch;
}

json TensorDataSet::fingerprint() const {
  json fingerprint = json::object();
  for (const auto& [name, tensor] : columns_) {
    if (!tensor.defined()) continue;
    const auto values = tensor.detach().cpu().contiguous();
    fingerprint[name] = {
        {"shape", values.sizes().vec()},
        {"crc32", crc32_z(0, static_cast<const unsigned char*>(values.data_ptr()), values.nbytes())}};
  }
  return fingerprint;
}

std::vector<torch::Tensor> SampledBatches::batch(int64_t, int64_t, const distributed::Shard& shard,
                                                 uint64_t, at::Generator& generator) {
  auto [x, context] = sampler_(shard.rows, generator);
  return {x, context};
}

}  // namespace diffeo::train
