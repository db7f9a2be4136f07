#pragma once
// Building blocks of the toy densities: Gaussian, mixture and ring log
// densities, the Rezende & Mohamed warp functions and seeded draws.  Every
// density helper computes in its input's dtype and device.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace diffeo::data {

/// x1 and x2 of points [..., 2], as [...] views.
inline torch::Tensor first(const torch::Tensor& x) { return x.select(-1, 0); }
inline torch::Tensor second(const torch::Tensor& x) { return x.select(-1, 1); }

/// log N(residual; 0, sd^2), elementwise.
torch::Tensor gaussian_log_density(const torch::Tensor& residual, double sd);

/// log((1/K) sum_k exp(terms[k])): the log density of an equal mixture whose
/// component log densities are `terms` (all of one shape).  All -inf gives -inf.
torch::Tensor log_mean_exp(const std::vector<torch::Tensor>& terms);

/// `log_density` where `inside` holds, -inf elsewhere (outside the support).
torch::Tensor restrict_to(const torch::Tensor& inside, const torch::Tensor& log_density);

/// Log density of the equal mixture of N(centre_k, sd^2 I) on R^2, [..., 2] -> [...].
torch::Tensor isotropic_mixture_log_prob(const torch::Tensor& x,
                                         const std::vector<std::array<double, 2>>& centres,
                                         double sd);

/// Log density of the equal mixture of rings: a uniform angle on a circle of
/// radius r_k plus N(0, sd^2 I) noise, whose density is
/// exp(-(|x| - r)^2 / (2 sd^2)) i0e(|x| r / sd^2) / (2 pi sd^2).
torch::Tensor ring_mixture_log_prob(const torch::Tensor& x, const std::vector<double>& radii,
                                    double sd);

/// The warp functions of Rezende & Mohamed (2015), elementwise:
/// w1(z) = sin(pi z / 2), w2(z) = 3 exp(-((z - 1) / 0.6)^2 / 2),
/// w3(z) = 3 sigmoid((z - 1) / 0.3).
torch::Tensor w1(const torch::Tensor& z);
torch::Tensor w2(const torch::Tensor& z);
torch::Tensor w3(const torch::Tensor& z);

/// [n] float32 draws from Uniform[low, high), each within [low, high] as
/// real numbers (also after conversion to float64).
torch::Tensor draw_uniform(int64_t n, double low, double high, at::Generator generator);

/// [n] float32 draws from N(0, 1).
torch::Tensor draw_normal(int64_t n, at::Generator generator);

/// [n] int64 draws, uniform on {0, ..., k - 1}.
torch::Tensor draw_index(int64_t n, int64_t k, at::Generator generator);

/// n draws from isotropic_mixture_log_prob's mixture, [n, 2] float32.
torch::Tensor isotropic_mixture_sample(int64_t n, const std::vector<std::array<double, 2>>& centres,
                                       double sd, at::Generator generator);

/// n draws from ring_mixture_log_prob's mixture, [n, 2] float32.
torch::Tensor ring_mixture_sample(int64_t n, const std::vector<double>& radii, double sd,
                                  at::Generator generator);

}  // namespace diffeo::data
