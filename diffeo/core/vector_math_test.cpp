// The vectorised exp and tanh against std::exp / std::tanh, with every
// instruction set this CPU has and the scalar fallback: lengths with and
// without a partial last vector, the ranges the flows meet, and NaN kept.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "diffeo/core/vector_isa.h"
#include "diffeo/core/vector_math.h"

namespace diffeo {
namespace {

template <typename T>
void expect_close_to_libm(VectorIsa isa, T tolerance) {
  VectorIsaGuard guard(isa);
  std::mt19937 generator(11);
  std::uniform_real_distribution<T> uniform(-30, 30);
  for (int64_t n : {0, 1, 3, 4, 7, 8, 15, 16, 17, 100}) {
    std::vector<T> x(n);
    for (auto& v : x) v = uniform(generator);
    auto e = x, t = x;
    exp_in_place(e.data(), n);
    tanh_in_place(t.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(e[i] / std::exp(x[i]), 1, tolerance) << "exp(" << x[i] << "), n " << n;
      EXPECT_NEAR(t[i], std::tanh(x[i]), tolerance * std::abs(std::tanh(x[i])))
          << "tanh(" << x[i] << "), n " << n;
    }
  }
  std::vector<T> special{std::numeric_limits<T>::quiet_NaN(), 0, T(-0.0), T(1e-30), 1000, -1000};
  auto e = special, t = special;
  exp_in_place(e.data(), static_cast<int64_t>(e.size()));
  tanh_in_place(t.data(), static_cast<int64_t>(t.size()));
  EXPECT_TRUE(std::isnan(e[0]));
  EXPECT_TRUE(std::isnan(t[0]));
  EXPECT_EQ(e[1], 1);
  EXPECT_EQ(t[1], 0);
  EXPECT_NEAR(t[3], T(1e-30), T(1e-30) * tolerance);
  EXPECT_EQ(t[4], 1);
  EXPECT_EQ(t[5], -1);
  EXPECT_EQ(e[5], 0);
}

TEST(VectorMath, AgreesWithTheScalarFunctionsWithEachInstructionSet) {
  for (VectorIsa isa : {VectorIsa::kNone, VectorIsa::kAvx2, VectorIsa::kAvx512}) {
    SCOPED_TRACE("isa " + std::to_string(static_cast<int>(isa)));
    expect_close_to_libm<float>(isa, 1e-6f);  // libmvec: within 4 ulp (float's is 6e-8)
    expect_close_to_libm<double>(isa, 1e-14);
  }
}

}  // namespace
}  // namespace diffeo
