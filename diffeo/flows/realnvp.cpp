#include "diffeo/flows/realnvp.h"

#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/coupling.h"
#include "diffeo/bijectors/inverse.h"
#include "diffeo/bijectors/permutation.h"
#include "diffeo/core/error.h"
#include "diffeo/flows/transforms.h"

namespace diffeo::flows {

namespace {

// Indices of a flat [C, H, W] image in checkerboard order: every pixel with
// (h + w) even first, then the others, so the first coupling conditions each
// transformed pixel on its four neighbours instead of on the image's other half.
std::vector<int64_t> checkerboard_order(const std::vector<int64_t>& shape) {
  std::vector<int64_t> even, odd;
  const int64_t H = shape[1], W = shape[2];
  for (int64_t i = 0; i < shape[0] * H * W; ++i)
    ((i / W + i % W) % 2 == 0 ? even : odd).push_back(i);
  even.insert(even.end(), odd.begin(), odd.end());
  return even;
}

}  // namespace

Bijector realnvp_bijector(const FlowOptions& options) {
  check_options(options, "RealNVP");
  const int64_t D = options.dim();
  if (D < 2) throw Error("RealNVP: argument 'dim' must be >= 2 for coupling layers, got 1");
  const int64_t layers = options.layers() > 0 ? options.layers() : 8;
  auto transform = make_transform(options);
  std::vector<Bijector> members;
  // In the density direction the image is first read in checkerboard order;
  // the Reverse layers then swap the two colours.
  if (!options.image_shape().empty())
    members.push_back(Inverse(Permute(checkerboard_order(options.image_shape()))));
  for (int64_t i = 0; i < layers; ++i) {
    // Reverse between couplings so the other half is transformed next.
    if (i > 0) members.push_back(Reverse());
    members.push_back(split_coupling(options, transform));
  }
  return Chain(members);
}

Flow RealNVP(const FlowOptions& options) { return build("realnvp", options); }

}  // namespace diffeo::flows
