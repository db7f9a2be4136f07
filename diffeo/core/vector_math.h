#pragma once
// exp and tanh over arrays of values, a vector of them at a time where the
// CPU and the C library allow: glibc's libmvec (2.35 on) has AVX2 and AVX-512
// versions (within 4 ulp, as its scalar functions are within 1-2), which the
// compiler would call itself only with -ffast-math and a vector target.  The
// fused affine layer's exp and tanh per value were a tenth of sampling a 2-D
// Real NVP as scalar calls.  Elsewhere (other CPUs or C libraries, or
// VectorIsaGuard(kNone)) each value goes through std::exp / std::tanh.

#include <cstdint>

namespace diffeo {

/// values[i] = exp(values[i]) for i < n.
template <typename T>
void exp_in_place(T* values, int64_t n);

/// values[i] = tanh(values[i]) for i < n.
template <typename T>
void tanh_in_place(T* values, int64_t n);

}  // namespace diffeo
