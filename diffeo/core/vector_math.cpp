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
// fn over n values, n a whole number of vectors, in place.  One function per
// instruction set and type: the intrinsics need the target attribute.
DIFFEO_AVX512 void whole_vectors(__m512 (*fn)(__m512), float* values, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) _mm512_storeu_ps(values + i, fn(_mm512_loadu_ps(values + i)));
}

DIFFEO_AVX512 void whole_vectors(__m512d (*fn)(__m512d), double* values, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) _mm512_storeu_pd(values + i, fn(_mm512_loadu_pd(values + i)));
}

DIFFEO_AVX2 void whole_vectors(__m256 (*fn)(__m256), float* values, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) _mm256_storeu_ps(values + i, fn(_mm256_loadu_ps(values + i)));
}

DIFFEO_AVX2 void whole_vectors(__m256d (*fn)(__m256d), double* values, int64_t n) {
  for (int64_t i = 0; i < n; i += 4) _mm256_storeu_pd(values + i, fn(_mm256_loadu_pd(values + i)));
}

// fn over all n values: the whole vectors in place, then the last values
// through a zero-padded vector, so that every value takes the same function.
template <typename Fn, typename T>
void in_vectors(Fn fn, int64_t lanes, T* values, int64_t n) {
  const int64_t whole = n / lanes * lanes;
  whole_vectors(fn, values, whole);
  if (whole == n) return;
  T last[16] = {};  // the most lanes: AVX-512 floats
  std::copy(values + whole, values + n, last);
  whole_vectors(fn, last, lanes);
  std::copy(last, last + (n - whole), values + whole);
}

void vectorised(Function f, VectorIsa isa, float* values, int64_t n) {
  const bool exp = f == Function::kExp;
  if (isa == VectorIsa::kAvx512)
    return in_vectors(exp ? _ZGVeN16v_expf : _ZGVeN16v_tanhf, 16, values, n);
  in_vectors(exp ? _ZGVdN8v_expf : _ZGVdN8v_tanhf, 8, values, n);
}

void vectorised(Function f, VectorIsa isa, double* values, int64_t n) {
  const bool exp = f == Function::kExp;
  if (isa == VectorIsa::kAvx512)
    return in_vectors(exp ? _ZGVeN8v_exp : _ZGVeN8v_tanh, 8, values, n);
  in_vectors(exp ? _ZGVdN4v_exp : _ZGVdN4v_tanh, 4, values, n);
}
#undef DIFFEO_AVX2
#undef DIFFEO_AVX512
#endif

template <typename T>
void apply(Function f, T* values, int64_t n) {
#ifdef DIFFEO_LIBMVEC
  if (const VectorIsa isa = vector_isa(); isa != VectorIsa::kNone)
    return vectorised(f, isa, values, n);
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
