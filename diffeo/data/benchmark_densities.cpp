// The common 2-D benchmark set in the conventions of FFJORD's lib/toy_data.py
// (scales, noise levels, offsets).  Differences: every sampler draws n
// independent points (FFJORD/sklearn use evenly spaced arc positions, fixed
// class counts, and pinwheel returns 5 * floor(n/5) points); component and
// position are drawn uniformly instead.

#include <cmath>

#include "diffeo/data/density_math.h"
#include "diffeo/data/toy_families.h"

namespace diffeo::data {
namespace {

const PlotRange kSquare4{-4, 4, -4, 4};

ToyDensity make(const std::string& name, const std::string& description) {
  ToyDensity d;
  d.name = name;
  d.description = description;
  d.range = kSquare4;
  return d;
}

ToyDensity two_moons() {
  auto d = make("two_moons",
                "sklearn moons (noise 0.1) scaled by 2 and shifted by (-1, -0.2): arcs "
                "(2 cos t - 1, 2 sin t - 0.2) and (1 - 2 cos t, 0.8 - 2 sin t), t ~ U(0, pi), "
                "plus N(0, 0.2^2 I)");
  d.sample = [](int64_t n, at::Generator g) {
    auto t = draw_uniform(n, 0, M_PI, g);
    auto upper = draw_index(n, 2, g).to(torch::kBool);
    auto c = torch::cos(t), s = torch::sin(t);
    auto x = torch::where(upper, 2 * c - 1, 1 - 2 * c);
    auto y = torch::where(upper, 2 * s - 0.2, 0.8 - 2 * s);
    return torch::stack({x, y}, 1) + 0.2 * torch::randn({n, 2}, g, torch::kFloat32);
  };
  return d;
}

ToyDensity rings(const std::string& name, const std::string& description, std::vector<double> radii,
                 double sd) {
  auto d = make(name, description);
  d.sample = [radii, sd](int64_t n, at::Generator g) {
    return ring_mixture_sample(n, radii, sd, g);
  };
  d.log_prob = [radii, sd](const torch::Tensor& x) { return ring_mixture_log_prob(x, radii, sd); };
  return d;
}

const std::vector<std::array<double, 2>>& eight_centres() {
  // FFJORD places them at 4 (cos k pi/4, sin k pi/4) and divides by 1.414.
  static const auto centres = [] {
    std::vector<std::array<double, 2>> c;
    for (int k = 0; k < 8; ++k)
      c.push_back({4 * std::cos(M_PI * k / 4) / 1.414, 4 * std::sin(M_PI * k / 4) / 1.414});
    return c;
  }();
  return centres;
}

ToyDensity eight_gaussians() {
  auto d = make("8gaussians",
                "equal mixture of 8 N(c_k, (0.5/1.414)^2 I), c_k = (4/1.414) (cos k pi/4, "
                "sin k pi/4)");
  d.sample = [](int64_t n, at::Generator g) {
    return isotropic_mixture_sample(n, eight_centres(), 0.5 / 1.414, g);
  };
  d.log_prob = [](const torch::Tensor& x) {
    return isotropic_mixture_log_prob(x, eight_centres(), 0.5 / 1.414);
  };
  return d;
}

ToyDensity checkerboard() {
  auto d = make("checkerboard",
                "uniform on the 8 squares [2a, 2a + 2) x [2b, 2b + 2), a, b in {-2, ..., 1}, "
                "a + b even (density 1/32)");
  d.sample = [](int64_t n, at::Generator g) {
    auto x1 = draw_uniform(n, -2, 2, g);
    auto x2 = draw_uniform(n, 0, 1, g) - 2 * draw_index(n, 2, g).to(torch::kFloat32) +
              torch::remainder(torch::floor(x1), 2);
    return 2 * torch::stack({x1, x2}, 1);
  };
  d.log_prob = [](const torch::Tensor& x) {
    auto cell = torch::floor(x / 2);  // (a, b)
    auto inside = ((cell >= -2) & (cell <= 1)).all(-1) & (torch::remainder(cell.sum(-1), 2) == 0);
    // 0 * x keeps x in the graph: reverse-KL code gets zero gradients, not an error.
    return restrict_to(inside, (0 * x).sum(-1) - std::log(32.0));
  };
  return d;
}

ToyDensity pinwheel() {
  auto d = make("pinwheel",
                "5 arms k: (r, t) ~ N((1, 0), diag(0.3^2, 0.1^2)), rotated by -(2 pi k/5 + "
                "0.25 exp(r)), scaled by 2");
  d.sample = [](int64_t n, at::Generator g) {
    auto arm = draw_index(n, 5, g).to(torch::kFloat32);
    auto radial = 1 + 0.3 * draw_normal(n, g);
    auto tangential = 0.1 * draw_normal(n, g);
    auto angle = arm * (2 * M_PI / 5) + 0.25 * torch::exp(radial);
    auto c = torch::cos(angle), s = torch::sin(angle);
    return 2 * torch::stack({radial * c + tangential * s, tangential * c - radial * s}, 1);
  };
  return d;
}

ToyDensity two_spirals() {
  auto d = make("2spirals",
                "s = 3 pi sqrt(u); (-s cos s + 0.5 u1, s sin s + 0.5 u2) / 3 with a random sign, "
                "plus N(0, 0.1^2 I)");
  d.sample = [](int64_t n, at::Generator g) {
    auto s = 3 * M_PI * torch::sqrt(draw_uniform(n, 0, 1, g));
    auto x = -torch::cos(s) * s + draw_uniform(n, 0, 0.5, g);
    auto y = torch::sin(s) * s + draw_uniform(n, 0, 0.5, g);
    auto sign = 2 * draw_index(n, 2, g).to(torch::kFloat32) - 1;
    return (sign / 3).unsqueeze(1) * torch::stack({x, y}, 1) +
           0.1 * torch::randn({n, 2}, g, torch::kFloat32);
  };
  return d;
}

ToyDensity swissroll() {
  auto d = make("swissroll",
                "sklearn swiss roll (noise 1) projected on (x, z) and divided by 5: "
                "(t cos t, t sin t) / 5 + N(0, 0.2^2 I), t ~ U(1.5 pi, 4.5 pi)");
  d.sample = [](int64_t n, at::Generator g) {
    auto t = draw_uniform(n, 1.5 * M_PI, 4.5 * M_PI, g);
    return torch::stack({t * torch::cos(t), t * torch::sin(t)}, 1) / 5 +
           0.2 * torch::randn({n, 2}, g, torch::kFloat32);
  };
  return d;
}

}  // namespace

std::vector<ToyDensity> benchmark_densities() {
  return {
      two_moons(),
      rings("circles",
            "sklearn circles (factor 0.5, noise 0.08) scaled by 3: equal mixture of rings of "
            "radius 3 and 1.5 plus N(0, 0.24^2 I)",
            {3.0, 1.5}, 0.24),
      eight_gaussians(),
      checkerboard(),
      pinwheel(),
      two_spirals(),
      swissroll(),
      rings("rings", "equal mixture of rings of radius 3, 2.25, 1.5, 0.75 plus N(0, 0.08^2 I)",
            {3.0, 2.25, 1.5, 0.75}, 0.08),
  };
}

}  // namespace diffeo::data
