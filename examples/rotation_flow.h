#pragma once
// The reference project's rotation experiment: fit Chain{Rotation2D, Shift,
// Scale} on a standard normal, by maximum likelihood, to a rotated Gaussian.

#include <diffeo/diffeo.h>

#include <cstdint>
#include <functional>

namespace rotation_flow {

struct Options {
  int64_t steps = 3000;
  int64_t batch_size = 128;
  double learning_rate = 0.05;
  uint64_t seed = 0;
  int64_t report_every = 0;  // 0: no progress callback
};

/// The fitted parameters and how close the learned Gaussian is to the truth.
struct Report {
  double theta = 0, shift[2] = {0, 0}, scale[2] = {0, 0};
  double kl = 0;  // KL(learned || true), closed form, nats
  double final_nll = 0;
};

/// Called every `report_every` steps with the step and the batch NLL.
using Progress = std::function<void(int64_t step, double nll)>;

/// The true distribution: N(loc (3, 1), scales (0.75, 3)) rotated by pi/3.
diffeo::Transformed true_distribution();

/// KL(N(m1, S1) || N(m2, S2)) for d-dimensional Gaussians, in nats.
double gaussian_kl(const torch::Tensor& m1, const torch::Tensor& S1, const torch::Tensor& m2,
                   const torch::Tensor& S2);

/// Runs the experiment: Adam on fresh batches drawn from the truth.
Report fit(const Options& options, const Progress& progress = {});

}  // namespace rotation_flow
