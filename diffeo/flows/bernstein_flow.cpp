#include "diffeo/flows/bernstein_flow.h"

#include <cmath>

#include "diffeo/bijectors/affine.h"
#include "diffeo/bijectors/bernstein.h"
#include "diffeo/bijectors/bernstein_chain_transform.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/conditional_elementwise.h"
#include "diffeo/bijectors/elementwise.h"
#include "diffeo/bijectors/inverse.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::flows {

Bijector bernstein_flow_bijector(const FlowOptions& options) {
  check_options(options, "BernsteinFlow");
  const int64_t D = options.dim();
  if (options.context_features() > 0) {
    // A transformation model: an MLP of the covariates gives every parameter.
    auto chain = std::make_shared<BernsteinChainTransform>(options.order());
    auto conditioner =
        nn::MLP(nn::MLPOptions(options.context_features(), D * chain->parameters_per_feature())
                    .hidden(options.hidden())
                    .activation(options.activation()));
    return ConditionalElementwise(D, options.context_features(), torch::nn::AnyModule(conditioner),
                                  chain);
  }
  auto affine = [D](double shift, double scale) {
    return ScalarAffine(torch::full({D}, shift), torch::full({D}, std::log(scale)));
  };
  // Data -> latent, applied last-listed first: a1 y + b1, then g, then a2 u + b2.
  auto polynomial = BernsteinPolynomial(options.order(), std::vector<int64_t>{D});
  auto to_latent = options.squash() == "sigmoid"
                       // The reference's chain: sigmoid(a1 y + b1) into (0, 1) first.
                       ? Chain({affine(-2.5, 5.0), polynomial, Sigmoid(), affine(0.0, 1.0)})
                       : Chain({affine(-2.5, 5.0), polynomial, affine(0.5, 0.2)});
  return Block(Inverse(to_latent), 1);  // a vector bijector, like every flow's
}

Flow BernsteinFlow(const FlowOptions& options) { return build("bernstein", options); }

}  // namespace diffeo::flows
