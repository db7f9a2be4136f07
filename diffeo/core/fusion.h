#pragma once
// A switch for the fused kernels (one autograd node per flow layer with a
// hand-written backward).  On by default; tests turn it off to compare the
// fused path with the composite one, and a user can to rule them out.

namespace diffeo {

/// Whether layers may take their fused path (thread-local; default true).
bool fused_kernels_enabled();

/// Turns the fused kernels off (or on) for this thread while it lives.
class FusedKernelsGuard {
 public:
  explicit FusedKernelsGuard(bool enabled);
  ~FusedKernelsGuard();
  FusedKernelsGuard(const FusedKernelsGuard&) = delete;
  FusedKernelsGuard& operator=(const FusedKernelsGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace diffeo
