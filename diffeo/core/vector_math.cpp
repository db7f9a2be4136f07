#include "diffeo/core/vector_math.h"

#include <algorithm>
#include <cmath>

#include "diffeo/core/vector_isa.h"

#if defined(__x86_64__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define DIFFEO_LIBMVEC 1
#include <immintrin.h>

// libmvec's functions, by their x86-64 vector-function ABI names: _ZGV, the
// ISA (d: AVX2, e: AVX-512), N (unmasked), the lanes, v (one vector argument).
#define DIFFEO_AVX2 __attribute__((target("avx2")))
#define DIFFEO_AVX512 __attribute__((target("avx512f")))
extern "C" {
DIFFEO_AVX2 __m256 _ZGVdN8v_expf(__m256);
DIFFEO_AVX2 __m256 _ZGVdN8v_tanhf(__m256);
DIFFEO_AVX2 __m256d _ZGVdN4v_exp(__m256d);
DIFFEO_AVX2 __m256d _ZGVdN4v_tanh(__m256d);
DIFFEO_AVX512 __m512 _ZGVeN16v_expf(__m512);
DIFFEO_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
DIFFEO_AVX512 __m512d _ZGVeN8v_exp(__m512d);
DIFFEO_AVX512 __m512d _ZGVeN8v_tanh(__m512d);
}
#endif

namespace diffeo {

namespace {

enum class Function { kExp, kTanh };

template <typename T>
void scalar(Function f, T* values, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    values[i] = f == Function::kExp ? std::exp(values[i]) : std::tanh(values[i]);
}

#ifdef DIFFEO_LIBMVEC
// Whole vectors in place, then the last values through a zero-padded vector
// (so that every value takes the same function).  A macro, not a template
// taking the intrinsics as lambdas: a lambda does not inherit its enclosing
// function's target attribute, so the intrinsics would not compile in it.
#define DIFFEO_VECTOR_LOOP(LANES, VEC, LOAD, STORE, FN)    \
  int64_t i = 0;                                             \
  for (; i + LANES <= n; i += LANES) STORE(values + i, FN(LOAD(values + i))); \
  if (i < n) {                                               \
    decltype(+*values) last[LANES] = {};                     \
    std::copy(values + i, values + n, last);                 \
    STORE(last, FN(LOAD(last)));                             \
    std::copy(last, last + (n - i), values + i);             \
  }

DIFFEO_AVX512 void avx512(Function f, float* values, int64_t n) {
  if (f == Function::kExp) {
    DIFFEO_VECTOR_LOOP(16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _ZGVeN16v_expf)
  } else {
    DIFFEO_VECTOR_LOOP(16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _ZGVeN16v_tanhf)
  }
}

DIFFEO_AVX512 void avx512(Function f, double* values, int64_t n) {
  if (f == Function::kExp) {
    DIFFEO_VECTOR_LOOP(8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _ZGVeN8v_exp)
  } else {
    DIFFEO_VECTOR_LOOP(8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _ZGVeN8v_tanh)
  }
}

DIFFEO_AVX2 void avx2(Function f, float* values, int64_t n) {
  if (f == Function::kExp) {
    DIFFEO_VECTOR_LOOP(8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _ZGVdN8v_expf)
  } else {
    DIFFEO_VECTOR_LOOP(8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _ZGVdN8v_tanhf)
  }
}

DIFFEO_AVX2 void avx2(Function f, double* values, int64_t n) {
  if (f == Function::kExp) {
    DIFFEO_VECTOR_LOOP(4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _ZGVdN4v_exp)
  } else {
    DIFFEO_VECTOR_LOOP(4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _ZGVdN4v_tanh)
  }
}
#undef DIFFEO_VECTOR_LOOP
#undef DIFFEO_AVX2
#undef DIFFEO_AVX512
#endif

template <typename T>
void apply(Function f, T* values, int64_t n) {
#ifdef DIFFEO_LIBMVEC
  switch (vector_isa()) {
    case VectorIsa::kAvx512:
      return avx512(f, values, n);
    case VectorIsa::kAvx2:
      return avx2(f, values, n);
    case VectorIsa::kNone:
      break;
  }
#endif
  scalar(f, values, n);
}

}  // namespace

template <typename T>
void exp_in_place(T* values, int64_t n) {
  apply(Function::kExp, values, n);
}

template <typename T>
void tanh_in_place(T* values, int64_t n) {
  apply(Function::kTanh, values, n);
}

template void exp_in_place(float*, int64_t);
template void exp_in_place(double*, int64_t);
template void tanh_in_place(float*, int64_t);
template void tanh_in_place(double*, int64_t);

}  // namespace diffeo

#undef DIFFEO_LIBMVEC
