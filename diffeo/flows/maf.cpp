#include "diffeo/flows/maf.h"

#include "diffeo/bijectors/autoregressive.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/permutation.h"
#include "diffeo/flows/transforms.h"

namespace diffeo::flows {

Bijector maf_bijector(const FlowOptions& options) {
  check_options(options, "MAF");
  const int64_t layers = options.layers() > 0 ? options.layers() : 10;
  auto transform = make_transform(options);
  std::vector<Bijector> members;
  for (int64_t i = 0; i < layers; ++i) {
    // Alternate the MADE's order instead of adding Reverse layers: same model,
    // no copies.
    auto made = nn::MADE(nn::MADEOptions(options.dim())
                             .hidden(options.hidden())
                             .activation(options.activation())
                             .context_features(options.context_features())
                             .outputs_per_feature(transform->parameters_per_feature())
                             .reverse_order(i % 2 == 1));
    members.push_back(MaskedAutoregressive(made, transform));
  }
  return Chain(members);
}

Flow MAF(const FlowOptions& options) { return build("maf", options); }

}  // namespace diffeo::flows
