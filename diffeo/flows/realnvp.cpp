#include "diffeo/flows/realnvp.h"

#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/permutation.h"
#include "diffeo/core/error.h"
#include "diffeo/flows/transforms.h"

namespace diffeo::flows {

Bijector realnvp_bijector(const FlowOptions& options) {
  check_options(options, "RealNVP");
  const int64_t D = options.dim();
  if (D < 2) throw Error("RealNVP: argument 'dim' must be >= 2 for coupling layers, got 1");
  const int64_t layers = options.layers() > 0 ? options.layers() : 8;
  auto transform = make_transform(options);
  std::vector<Bijector> members;
  for (int64_t i = 0; i < layers; ++i) {
    // Reverse between couplings so the other half is transformed next.
    if (i > 0) members.push_back(Reverse());
    members.push_back(split_coupling(options, transform));
  }
  return Chain(members);
}

Flow RealNVP(const FlowOptions& options) { return build("realnvp", options); }

}  // namespace diffeo::flows
