#include "diffeo/train/adam_update.h"

#include <cmath>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "diffeo/core/parallel.h"

namespace diffeo::train {

namespace {

// Flushes denormal inputs and results to zero while it lives, on this thread.
// Adam's moments of a weight whose gradient stays zero (a dead ReLU unit)
// decay by beta each step through the denormal range, where every operation
// takes a microcode assist: measured, the step of a 23k-parameter MAF took 10x
// as long.  Values below 1.2e-38 (2.2e-308) then count as zero, as under
// torch.set_flush_denormal(True).  Elsewhere than x86 a no-op.
class FlushDenormals {
 public:
#if defined(__SSE__)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

// The coefficients are rounded to T once, as ATen rounds its double scalars.
template <typename T>
void update_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                  int64_t begin, int64_t end, const AdamCoefficients& coefficients) {
  const T b1 = T(coefficients.b1), one_minus_b1 = T(1 - coefficients.b1);
  const T b2 = T(coefficients.b2), one_minus_b2 = T(1 - coefficients.b2);
  const T step_size = T(coefficients.step_size), root_bias2 = T(coefficients.root_bias2);
  const T eps = T(coefficients.eps);
  FlushDenormals flush;
  for (int64_t i = begin; i < end; ++i) {
    const T gi = g[i];
    const T mi = m[i] * b1 + one_minus_b1 * gi;
    const T vi = v[i] * b2 + one_minus_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) / root_bias2 + eps);
  }
}

template <typename T>
void update(T* p, const T* g, T* m, T* v, int64_t n, const AdamCoefficients& c) {
  parallel_for(0, n, 1 << 15,
               [&](int64_t begin, int64_t end) { update_range(p, g, m, v, begin, end, c); });
}

}  // namespace

void adam_update(float* p, const float* g, float* m, float* v, int64_t n,
                 const AdamCoefficients& c) {
  update(p, g, m, v, n, c);
}

void adam_update(double* p, const double* g, double* m, double* v, int64_t n,
                 const AdamCoefficients& c) {
  update(p, g, m, v, n, c);
}

}  // namespace diffeo::train
