#pragma once
// Training and scoring flows on 8-bit images: dequantised batches, bits/dim
// and sample pictures.

#include <torch/torch.h>

#include <cstdint>

#include "diffeo/distributions/distribution.h"
#include "diffeo/flows/flow.h"
#include "diffeo/train/evaluate.h"
#include "diffeo/train/fit.h"

namespace diffeo::train {

/// Training batches of 8-bit images `pixels` [N, C, H, W] (integer dtype)
/// for fit: the epochs of a TensorDataSet (shuffled from the run's seed and
/// the epoch, so a resumed or data-parallel run sees the same global
/// batches), each batch dequantised afresh to (x + u) / 256 with u ~ U[0, 1)
/// from the rank's generator and flattened to [rows, C * H * W].  With
/// `labels` [N] (int64 in 0..classes-1) each batch comes with one-hot context
/// [rows, classes] for a class-conditional flow.
class ImageBatches : public DataSource {
 public:
  explicit ImageBatches(const torch::Tensor& pixels, const torch::Tensor& labels = {},
                        int64_t classes = 10);
  std::vector<torch::Tensor> batch(int64_t step, int64_t global_rows, const distributed::Shard& shard,
                                   uint64_t seed, at::Generator& generator) override;
  int64_t global_rows(int64_t batch_size) const override { return images_.global_rows(batch_size); }
  json fingerprint() const override { return images_.fingerprint(); }

 private:
  TensorDataSet images_;
  int64_t classes_;
};

/// [n] int64 labels as one-hot rows [n, classes] in the default dtype.
torch::Tensor one_hot(const torch::Tensor& labels, int64_t classes);

/// Test log-likelihood of a model of unit-cube data (a flow with a "logit"
/// preprocessing, or any density on [0, 1]^D) on 8-bit images `pixels`
/// [N, C, H, W], in bits per dimension of the 8-bit data: each image is
/// dequantised once with noise drawn from `seed` (v = (x + u) / 256) and
///   bits/dim = (-log p(v) + D log 256) / (D log 2),
/// the per-image values averaged with their standard error.  By Jensen's
/// inequality the expectation over u is an upper bound on the model's
/// discrete -log2 P(x) / D.  Evaluated in chunks without autograd.
Estimate bits_per_dim(Distribution model, const torch::Tensor& pixels,
                      const torch::Tensor& context = {}, uint64_t seed = 0);

/// n samples of an image flow as [n, C, H, W] pictures in [0, 1] (the flow's
/// options must hold image_shape): base draws scaled by `temperature` (1: the
/// model's own samples; < 1 the usual sharper Glow pictures) pushed through
/// the bijector without autograd, with optional `context` [n, features].
torch::Tensor sample_images(flows::Flow flow, int64_t n, at::Generator generator,
                            double temperature = 1.0, const torch::Tensor& context = {});

}  // namespace diffeo::train
