#include "diffeo/core/fusion.h"

namespace diffeo {

namespace {
thread_local bool fused_enabled = true;
}

bool fused_kernels_enabled() { return fused_enabled; }

FusedKernelsGuard::FusedKernelsGuard(bool enabled) : previous_(fused_enabled) {
  fused_enabled = enabled;
}

FusedKernelsGuard::~FusedKernelsGuard() { fused_enabled = previous_; }

}  // namespace diffeo
