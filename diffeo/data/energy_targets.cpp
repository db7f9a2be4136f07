// The energy potentials U1..U4 of Rezende & Mohamed (2015), Table 1, as
// unnormalised targets exp(-U(z)) for reverse-KL fits.  U2..U4 do not decay
// along z1, so exp(-U) is not integrable on R^2: like the paper, judge them on
// their plotting range [-4, 4]^2.

#include <cmath>

#include "diffeo/data/density_math.h"
#include "diffeo/data/toy_families.h"

namespace diffeo::data {
namespace {

// -0.5 (v / s)^2: the exponent of an unnormalised Gaussian bump.
torch::Tensor bump(const torch::Tensor& v, double s) { return -0.5 * (v / s).pow(2); }

ToyDensity target(const std::string& name, const std::string& description,
                  torch::Tensor (*minus_u)(const torch::Tensor& z)) {
  ToyDensity d;
  d.name = name;
  d.description = description;
  d.unnormalized_log_prob = minus_u;
  d.range = {-4, 4, -4, 4};
  return d;
}

}  // namespace

std::vector<ToyDensity> energy_targets() {
  return {
      target("u1",
             "U1 = ((|z| - 2)/0.4)^2/2 - log(exp(-((z1 - 2)/0.6)^2/2) + exp(-((z1 + 2)/0.6)^2/2))",
             [](const torch::Tensor& z) {
               return bump(z.norm(2, -1) - 2, 0.4) +
                      torch::logaddexp(bump(first(z) - 2, 0.6), bump(first(z) + 2, 0.6));
             }),
      target("u2", "U2 = ((z2 - w1(z1))/0.4)^2/2",
             [](const torch::Tensor& z) { return bump(second(z) - w1(first(z)), 0.4); }),
      target("u3", "U3 = -log(exp(-((z2 - w1)/0.35)^2/2) + exp(-((z2 - w1 + w2)/0.35)^2/2))",
             [](const torch::Tensor& z) {
               auto a = second(z) - w1(first(z));
               return torch::logaddexp(bump(a, 0.35), bump(a + w2(first(z)), 0.35));
             }),
      target("u4", "U4 = -log(exp(-((z2 - w1)/0.4)^2/2) + exp(-((z2 - w1 + w3)/0.35)^2/2))",
             [](const torch::Tensor& z) {
               auto a = second(z) - w1(first(z));
               return torch::logaddexp(bump(a, 0.4), bump(a + w3(first(z)), 0.35));
             }),
  };
}

}  // namespace diffeo::data
