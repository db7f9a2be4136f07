#pragma once
// The setting of the tests that two trainings end at the same weights (data
// parallelism against one process, a GPU against the CPU): a small float64
// flow, a curved 2-D data set and the fit options both sides train with.

#include <torch/torch.h>

#include <string>
#include <utility>

#include "diffeo/flows/flow.h"
#include "diffeo/train/fit.h"

namespace diffeo::testing {

/// A 2-D flow by name (3 layers, 16 hidden units, seed 4) in float64 on `device`.
flows::Flow equivalence_flow(const std::string& name, const torch::Device& device = torch::kCPU);

/// A curved 2-D data set: 600 training rows and 100 held out, float64, on the CPU.
std::pair<torch::Tensor, torch::Tensor> banana_rows();

/// 100 steps crossing epochs (600 rows, batches of 64 -> 9 per epoch), with
/// clipping, the cosine schedule and validations picking the best weights.
train::FitOptions equivalence_options();

/// Every parameter of `got` within rtol of `want`'s, relative to `want`'s
/// largest weight, compared on `want`'s device: sums in another order differ
/// by ~1e-16 per step, which Adam's normalisation can lift to ~1e-11 on
/// weights whose gradient is almost zero.  rtol 0 asks for equality.
void expect_weights_close(const torch::nn::Module& got, const torch::nn::Module& want, double rtol,
                          const std::string& what);

/// The same training and validation losses, step by step, to 1e-9.
void expect_same_losses(const train::FitReport& got, const train::FitReport& want,
                        const std::string& what);

}  // namespace diffeo::testing
