#pragma once
// The objectives of density models: maximum likelihood and reverse KL.

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "diffeo/distributions/distribution.h"
#include "diffeo/train/objective.h"

namespace diffeo::train {

/// log p(x | context) per row [rows], for any module with such a density.
using LogDensity = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& context)>;

/// Maximum likelihood: the mean of -log p(x | context) over the batch, whose
/// columns are x and (optionally) the context: a Distribution (flows,
/// conditional flows) or any module with a log density, such as
/// ConditionalHINT's joint log p(x, y) with y in the context column.  With a
/// validation set, the validation loss is its mean -log p, each rank
/// evaluating its block of rows (distributed::shard) in chunks of
/// `chunk_rows` rows without autograd (so wide image models fit in memory).
class MaximumLikelihood : public Objective {
 public:
  explicit MaximumLikelihood(Distribution model);
  MaximumLikelihood(std::shared_ptr<torch::nn::Module> module, LogDensity log_prob);

  /// Held-out rows [n, event...] and their context (optional).
  MaximumLikelihood& validate_on(torch::Tensor x, torch::Tensor context = {},
                                 int64_t chunk_rows = 1024);

  torch::nn::Module& module() override { return *module_; }
  torch::Tensor loss(const Batch& batch, at::Generator& generator) override;
  LossSum validation_sum(int rank, int world_size) override;

 private:
  std::shared_ptr<torch::nn::Module> module_;
  LogDensity log_prob_;
  Distribution distribution_ = nullptr;  // when built from one: validates as evaluate.h does
  torch::Tensor validation_, validation_context_;
  int64_t chunk_rows_ = 1024;
};

/// Reverse KL to an unnormalised target log p~: E_q[log q(x) - log p~(x)]
/// over batch.rows reparameterised draws x ~ q from the rank's generator
/// (use with the NoData source).  The loss is KL(q || p) - log Z.  The
/// validation loss uses `validation_draws` draws from a generator seeded
/// `validation_seed` (0 draws: no validation), all on rank 0, so that it is
/// the same however many ranks train.
class ReverseKL : public Objective {
 public:
  using Target = std::function<torch::Tensor(const torch::Tensor&)>;
  ReverseKL(Distribution model, Target target_log_prob, uint64_t validation_seed,
            int64_t validation_draws = 8192);

  torch::nn::Module& module() override { return *model_.ptr(); }
  torch::Tensor loss(const Batch& batch, at::Generator& generator) override;
  LossSum validation_sum(int rank, int world_size) override;

 private:
  Distribution model_;
  Target target_;
  uint64_t validation_seed_;
  int64_t validation_draws_;
};

}  // namespace diffeo::train
