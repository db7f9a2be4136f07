// RandomPermutation beyond the generic properties (normalization_test.cpp).

#include "diffeo/bijectors/random_permutation.h"

#include <gtest/gtest.h>

#include "diffeo/testing/expect_error.h"

namespace diffeo {
namespace {

using testing::expect_error;

TEST(RandomPermutation, TheSeedFixesThePermutation) {
  auto a = RandomPermutation(10, 3)->permutation();
  EXPECT_TRUE(torch::equal(RandomPermutation(10, 3)->permutation(), a));
  EXPECT_FALSE(torch::equal(RandomPermutation(10, 4)->permutation(), a));
  EXPECT_TRUE(torch::equal(std::get<0>(a.sort()), torch::arange(10)));
  // Pinned: a change of generator or algorithm would silently change saved flows.
  EXPECT_TRUE(torch::equal(RandomPermutation(5, 0)->permutation(),
                           torch::tensor(std::vector<int64_t>{4, 0, 1, 3, 2})))
      << RandomPermutation(5, 0)->permutation();
}

TEST(RandomPermutation, IsAPermute) {
  RandomPermutation random(6, 1);
  Permute as_permute(std::shared_ptr<PermuteImpl>(random.ptr()));
  auto x = torch::randn({4, 6});
  auto y = as_permute->forward(x);
  EXPECT_TRUE(torch::equal(y, x.index_select(1, random->permutation())));
  EXPECT_TRUE(torch::equal(random->inverse(y), x));
}

TEST(RandomPermutation, RefusesBadArguments) {
  expect_error([] { RandomPermutation(0, 1); }, {"RandomPermutation", "'dim'", "positive", "0"});
  expect_error([] { RandomPermutation(3, 1)->forward(torch::randn({2})); },
               {"RandomPermutation", "'x'", "event size 2", "event size 3"});
}

}  // namespace
}  // namespace diffeo
