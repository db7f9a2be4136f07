#include "diffeo/data/batch_loader.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::data {
namespace {

// The common number of rows of `tensors`; diffeo::Error naming the culprit.
int64_t common_rows(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty())
    throw Error("BatchLoader: argument 'tensors' is empty; pass at least one tensor");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string arg = "tensors[" + std::to_string(i) + "]";
    check_defined(tensors[i], arg, "BatchLoader");
    if (tensors[i].dim() == 0)
      throw Error("BatchLoader: argument '" + arg +
                  "' is 0-dimensional; batches are taken along dimension 0");
    if (tensors[i].size(0) != tensors[0].size(0))
      throw Error("BatchLoader: argument '" + arg + "' has " + std::to_string(tensors[i].size(0)) +
                  " rows (shape " + shape_string(tensors[i].sizes()) + ") but 'tensors[0]' has " +
                  std::to_string(tensors[0].size(0)) + "; all must share dimension 0");
  }
  return tensors[0].size(0);
}

}  // namespace

BatchLoader::BatchLoader(std::vector<torch::Tensor> tensors, int64_t batch_size, uint64_t seed,
                         bool drop_last)
    : tensors_(std::move(tensors)),
      size_(common_rows(tensors_)),
      batch_size_(batch_size),
      generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  if (batch_size < 1 || batch_size > size_)
    throw Error("BatchLoader: argument 'batch_size' must be in 1.." + std::to_string(size_) +
                " (the number of rows), got " + std::to_string(batch_size));
  batches_per_epoch_ = drop_last ? size_ / batch_size : (size_ + batch_size - 1) / batch_size;
}

std::vector<torch::Tensor> BatchLoader::next() {
  if (batch_ == 0) order_ = torch::randperm(size_, generator_, torch::kLong);
  const int64_t start = batch_ * batch_size_;
  const auto rows = order_.slice(0, start, std::min(start + batch_size_, size_));
  if (++batch_ == batches_per_epoch_) {
    batch_ = 0;
    ++epoch_;
  }
  std::vector<torch::Tensor> batch;
  batch.reserve(tensors_.size());
  for (const auto& t : tensors_) batch.push_back(t.index_select(0, rows.to(t.device())));
  return batch;
}

}  // namespace diffeo::data
