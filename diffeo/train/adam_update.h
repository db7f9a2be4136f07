#pragma once
// FlatAdam's update as one loop over raw buffers.  It lives in a file of its
// own, without LibTorch's headers, because it is compiled with -fno-math-errno
// (CMakeLists.txt), which the precompiled <torch/torch.h> does not allow.

#include <cstdint>

namespace diffeo::train {

/// Adam's coefficients for one step, computed in double by the caller.
struct AdamCoefficients {
  double b1, b2, step_size, root_bias2, eps;
};

/// One Adam step over n elements, in parallel over chunks: m = b1 m + (1 - b1) g,
/// v = b2 v + (1 - b2) g^2, p -= step_size m / (sqrt(v) / root_bias2 + eps).
/// One pass where ATen's operators take eight over the buffers and allocate
/// one more; the sqrt vectorises without errno (v >= 0 never sets it).
void adam_update(float* p, const float* g, float* m, float* v, int64_t n,
                 const AdamCoefficients& c);
void adam_update(double* p, const double* g, double* m, double* v, int64_t n,
                 const AdamCoefficients& c);

}  // namespace diffeo::train
