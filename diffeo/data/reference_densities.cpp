// The six densities and the half_circle target of the reference project
// (kaijennissen/Normalizing_Flows, src/densities/*.py).  x1 is coordinate 0, x2 coordinate 1.

#include <cmath>

#include "diffeo/data/density_math.h"
#include "diffeo/data/toy_families.h"

namespace diffeo::data {
namespace {

const double kSqrt3 = std::sqrt(3.0);

ToyDensity banana() {
  ToyDensity d;
  d.name = "banana";
  d.description = "x2 ~ N(0, 3), x1 | x2 ~ N(x2^2/3 - 2, 3/4)";
  d.sample = [](int64_t n, at::Generator g) {
    auto x2 = kSqrt3 * draw_normal(n, g);
    auto x1 = x2.pow(2) / 3 - 2 + (kSqrt3 / 2) * draw_normal(n, g);
    return torch::stack({x1, x2}, 1);
  };
  d.log_prob = [](const torch::Tensor& x) {
    auto x2 = second(x);
    return gaussian_log_density(x2, kSqrt3) +
           gaussian_log_density(first(x) - (x2.pow(2) / 3 - 2), kSqrt3 / 2);
  };
  d.range = {-4, 8, -6, 6};
  return d;
}

const std::vector<std::array<double, 2>>& blob_centres() {
  static const auto centres = [] {
    std::vector<std::array<double, 2>> c;
    for (int k = 0; k < 8; ++k)
      c.push_back({2 * std::cos(2 * M_PI * k / 8), 2 * std::sin(2 * M_PI * k / 8)});
    return c;
  }();
  return centres;
}

ToyDensity gaussian_blobs() {
  ToyDensity d;
  d.name = "gaussian_blobs";
  d.description = "equal mixture of 8 N(c_k, 0.3^2 I), c_k = 2 (cos 2 pi k/8, sin 2 pi k/8)";
  d.sample = [](int64_t n, at::Generator g) {
    return isotropic_mixture_sample(n, blob_centres(), 0.3, g);
  };
  d.log_prob = [](const torch::Tensor& x) {
    return isotropic_mixture_log_prob(x, blob_centres(), 0.3);
  };
  d.range = {-4, 4, -4, 4};
  return d;
}

ToyDensity energy1() {
  ToyDensity d;
  d.name = "energy1";
  d.description = "x2 ~ N(0, 2^2), x1 | x2 ~ (N(m, 0.3^2) + N(-m, 0.3^2)) / 2, m = 2 - x2^2/32";
  d.sample = [](int64_t n, at::Generator g) {
    auto x2 = 2 * draw_normal(n, g);
    auto sign = 2 * draw_index(n, 2, g).to(torch::kFloat32) - 1;
    auto x1 = sign * (2 - x2.pow(2) / 32) + 0.3 * draw_normal(n, g);
    return torch::stack({x1, x2}, 1);
  };
  d.log_prob = [](const torch::Tensor& x) {
    auto x1 = first(x), x2 = second(x);
    auto m = 2 - x2.pow(2) / 32;
    return gaussian_log_density(x2, 2) +
           log_mean_exp({gaussian_log_density(x1 - m, 0.3), gaussian_log_density(x1 + m, 0.3)});
  };
  d.range = {-4, 4, -6, 6};
  return d;
}

// energy2..energy4: x1 ~ Uniform(-3 pi/2, 3 pi/2) and x2 | x1 an equal mixture
// of N(mean_k(x1), 0.5^2).
using ComponentMeans = std::vector<torch::Tensor> (*)(const torch::Tensor& x1);

const double kHalfWidth = 1.5 * M_PI;
const double kEnergySd = 0.5;

ToyDensity uniform_then_mixture(const std::string& name, const std::string& description,
                                ComponentMeans means, PlotRange range) {
  ToyDensity d;
  d.name = name;
  d.description = description;
  d.sample = [means](int64_t n, at::Generator g) {
    auto x1 = draw_uniform(n, -kHalfWidth, kHalfWidth, g);
    auto component_means = torch::stack(means(x1), 1);  // [n, K]
    auto k = draw_index(n, component_means.size(1), g);
    auto x2 = component_means.gather(1, k.unsqueeze(1)).squeeze(1) + kEnergySd * draw_normal(n, g);
    return torch::stack({x1, x2}, 1);
  };
  d.log_prob = [means](const torch::Tensor& x) {
    auto x1 = first(x), x2 = second(x);
    std::vector<torch::Tensor> terms;
    for (const auto& m : means(x1)) terms.push_back(gaussian_log_density(x2 - m, kEnergySd));
    return restrict_to(x1.abs() <= kHalfWidth, log_mean_exp(terms) - std::log(2 * kHalfWidth));
  };
  d.range = range;
  return d;
}

ToyDensity half_circle() {
  ToyDensity d;
  d.name = "half_circle";
  d.description =
      "unnormalised exp(-theta^2/2 - ((r - 1)/0.2)^2/2), polar (r, theta), theta in (-pi, pi]";
  d.unnormalized_log_prob = [](const torch::Tensor& x) {
    auto theta = torch::atan2(second(x), first(x));
    auto r = x.norm(2, -1);
    return -0.5 * theta.pow(2) - 0.5 * ((r - 1) / 0.2).pow(2);
  };
  d.range = {-2, 2, -2, 2};
  return d;
}

}  // namespace

std::vector<ToyDensity> reference_densities() {
  return {
      banana(),
      gaussian_blobs(),
      energy1(),
      uniform_then_mixture(
          "energy2", "x1 ~ U(-3pi/2, 3pi/2), x2 | x1 ~ N(w1(x1), 0.5^2)",
          [](const torch::Tensor& x1) { return std::vector<torch::Tensor>{w1(x1)}; },
          {-5, 5, -3, 3}),
      uniform_then_mixture(
          "energy3", "x1 ~ U(-3pi/2, 3pi/2), x2 | x1 ~ (N(w1, 0.5^2) + N(w1 - w2, 0.5^2)) / 2",
          [](const torch::Tensor& x1) {
            auto a = w1(x1);
            return std::vector<torch::Tensor>{a, a - w2(x1)};
          },
          {-5, 5, -4, 3}),
      uniform_then_mixture(
          "energy4", "x1 ~ U(-3pi/2, 3pi/2), x2 | x1 ~ (N(w1, 0.5^2) + N(w1 + w3, 0.5^2)) / 2",
          [](const torch::Tensor& x1) {
            auto a = w1(x1);
            return std::vector<torch::Tensor>{a, a + w3(x1)};
          },
          {-5, 5, -3, 6}),
      half_circle(),
  };
}

}  // namespace diffeo::data
