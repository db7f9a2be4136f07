#include "diffeo/data/density_math.h"

#include <cmath>

namespace diffeo::data {

torch::Tensor gaussian_log_density(const torch::Tensor& residual, double sd) {
  const auto z = residual / sd;
  return -0.5 * z * z - (std::log(sd) + 0.5 * std::log(2 * M_PI));
}

torch::Tensor log_mean_exp(const std::vector<torch::Tensor>& terms) {
  if (terms.size() == 1) return terms.front();
  return torch::logsumexp(torch::stack(terms, -1), -1) -
         std::log(static_cast<double>(terms.size()));
}

torch::Tensor restrict_to(const torch::Tensor& inside, const torch::Tensor& log_density) {
  return torch::where(inside, log_density, torch::full_like(log_density, -INFINITY));
}

static torch::Tensor centre_tensor(const std::vector<std::array<double, 2>>& centres,
                                   const torch::TensorOptions& options) {
  std::vector<double> flat;
  for (const auto& c : centres) flat.insert(flat.end(), c.begin(), c.end());
  return torch::tensor(flat, options).view({static_cast<int64_t>(centres.size()), 2});
}

torch::Tensor isotropic_mixture_log_prob(const torch::Tensor& x,
                                         const std::vector<std::array<double, 2>>& centres,
                                         double sd) {
  auto residual = x.unsqueeze(-2) - centre_tensor(centres, x.options());  // [..., K, 2]
  auto component = gaussian_log_density(residual, sd).sum(-1);            // [..., K]
  return torch::logsumexp(component, -1) - std::log(static_cast<double>(centres.size()));
}

torch::Tensor ring_mixture_log_prob(const torch::Tensor& x, const std::vector<double>& radii,
                                    double sd) {
  const auto rho = x.norm(2, -1);
  const double variance = sd * sd;
  std::vector<torch::Tensor> terms;
  for (double r : radii)
    // i0e(z) = exp(-z) I0(z) keeps the Bessel factor finite for far points.
    terms.push_back(-(rho - r).pow(2) / (2 * variance) +
                    torch::special::i0e(rho * (r / variance)).log() -
                    std::log(2 * M_PI * variance));
  return log_mean_exp(terms);
}

torch::Tensor w1(const torch::Tensor& z) { return torch::sin(z * (M_PI / 2)); }

torch::Tensor w2(const torch::Tensor& z) { return 3 * torch::exp(-0.5 * ((z - 1) / 0.6).pow(2)); }

torch::Tensor w3(const torch::Tensor& z) { return 3 * torch::sigmoid((z - 1) / 0.3); }

// The float32 nearest to `bound` on the side of `inside`: a float32 rounding of
// 3 pi / 2 lies above the double, outside a support that ends there.
static float float_towards(double bound, double inside) {
  const float f = static_cast<float>(bound);
  if (inside < bound ? f > bound : f < bound) return std::nextafter(f, static_cast<float>(inside));
  return f;
}

torch::Tensor draw_uniform(int64_t n, double low, double high, at::Generator generator) {
  // Clamped so that every draw lies in [low, high] whatever dtype it is
  // compared in later (float32 arithmetic can round onto the rounded ends).
  return (low + (high - low) * torch::rand({n}, generator, torch::kFloat32))
      .clamp(float_towards(low, high), float_towards(high, low));
}

torch::Tensor draw_normal(int64_t n, at::Generator generator) {
  return torch::randn({n}, generator, torch::kFloat32);
}

torch::Tensor draw_index(int64_t n, int64_t k, at::Generator generator) {
  return torch::randint(k, {n}, generator, torch::kLong);
}

torch::Tensor isotropic_mixture_sample(int64_t n, const std::vector<std::array<double, 2>>& centres,
                                       double sd, at::Generator generator) {
  auto means = centre_tensor(centres, torch::kFloat32)
                   .index_select(0, draw_index(n, static_cast<int64_t>(centres.size()), generator));
  return means + sd * torch::randn({n, 2}, generator, torch::kFloat32);
}

torch::Tensor ring_mixture_sample(int64_t n, const std::vector<double>& radii, double sd,
                                  at::Generator generator) {
  auto radius = torch::tensor(radii, torch::kFloat32)
                    .index_select(0, draw_index(n, static_cast<int64_t>(radii.size()), generator));
  auto angle = draw_uniform(n, 0, 2 * M_PI, generator);
  return torch::stack({radius * torch::cos(angle), radius * torch::sin(angle)}, 1) +
         sd * torch::randn({n, 2}, generator, torch::kFloat32);
}

}  // namespace diffeo::data
