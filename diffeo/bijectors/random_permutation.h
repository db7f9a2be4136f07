#pragma once

#include <cstdint>

#include "diffeo/bijectors/permutation.h"

namespace diffeo {

/// A Permute whose permutation of the `dim` coordinates is drawn from a
/// generator seeded with `seed` (torch::randperm with a CPU generator), so the
/// same seed gives the same permutation on every machine and a saved model
/// reloads it from its buffers.  The usual glue between MAF layers; log-det 0.
/// It is a Permute (public inheritance), so permutation() returns the order.
class RandomPermutationImpl : public PermuteImpl {
 public:
  RandomPermutationImpl(int64_t dim, uint64_t seed);
};
TORCH_MODULE(RandomPermutation);

}  // namespace diffeo
