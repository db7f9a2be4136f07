#include "diffeo/flows/glow.h"

#include "diffeo/bijectors/act_norm.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/lu_linear.h"
#include "diffeo/core/error.h"
#include "diffeo/flows/multiscale_glow.h"
#include "diffeo/flows/transforms.h"

namespace diffeo::flows {

Bijector glow_bijector(const FlowOptions& options) {
  check_options(options, "Glow");
  if (!options.image_shape().empty()) return multiscale_glow_bijector(options);
  const int64_t D = options.dim();
  if (D < 2) throw Error("Glow: argument 'dim' must be >= 2 for coupling layers, got 1");
  const int64_t steps = options.layers() > 0 ? options.layers() : 8;
  auto transform = make_transform(FlowOptions(options).transform("affine"));
  // Chain lists the data side first, so in the density direction (inverse)
  // each step runs ActNorm, then LULinear, then the coupling, as in Glow.
  std::vector<Bijector> members;
  for (int64_t i = 0; i < steps; ++i) {
    members.push_back(ActNorm(D));
    members.push_back(LULinear(LULinearOptions(D).seed(options.seed() + i)));
    members.push_back(split_coupling(options, transform));
  }
  return Chain(members);
}

Flow Glow(const FlowOptions& options) { return build("glow", options); }

}  // namespace diffeo::flows
