#include "diffeo/flows/bernstein_flow.h"

#include <cmath>

#include "diffeo/bijectors/affine.h"
#include "diffeo/bijectors/bernstein.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/inverse.h"

namespace diffeo::flows {

Bijector bernstein_flow_bijector(const FlowOptions& options) {
  check_options(options, "BernsteinFlow");
  const int64_t D = options.dim();
  auto affine = [D](double shift, double scale) {
    return ScalarAffine(torch::full({D}, shift), torch::full({D}, std::log(scale)));
  };
  // Data -> latent, applied last-listed first: a1 y + b1, then g, then a2 u + b2.
  auto to_latent =
      Chain({affine(-2.5, 5.0), BernsteinPolynomial(options.order(), std::vector<int64_t>{D}),
             affine(0.5, 0.2)});
  return Block(Inverse(to_latent), 1);  // a vector bijector, like every flow's
}

Flow BernsteinFlow(const FlowOptions& options) { return build("bernstein", options); }

}  // namespace diffeo::flows
