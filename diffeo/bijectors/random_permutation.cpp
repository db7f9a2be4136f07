#include "diffeo/bijectors/random_permutation.h"

#include <vector>

#include "diffeo/core/checks.h"

namespace diffeo {

// Runs before PermuteImpl's constructor, so `dim` is checked under this type's name.
static std::vector<int64_t> seeded_permutation(int64_t dim, uint64_t seed) {
  check_positive(dim, "dim", "RandomPermutation");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto order = torch::randperm(dim, generator, torch::kLong);
  return {order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + dim};
}

RandomPermutationImpl::RandomPermutationImpl(int64_t dim, uint64_t seed)
    : PermuteImpl(seeded_permutation(dim, seed)) {}

}  // namespace diffeo
