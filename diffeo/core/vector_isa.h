#pragma once
// Which vector instructions diffeo's hand-vectorised kernels use.  The
// library is compiled for baseline x86-64 (SSE2), so that one build runs on
// every x86-64 machine; the kernels that gain from wider vectors (the tiled
// dense layers, the vector maths) carry their own target attributes and are
// called only where the CPU has those instructions.

namespace diffeo {

/// The instruction sets the vectorised kernels are built for (kNone: their
/// scalar or BLAS fallback).  Ordered: a later one implies the earlier.
enum class VectorIsa { kNone, kAvx2, kAvx512 };

/// What the kernels use on this thread: the best the CPU has (AVX2 counts
/// with FMA only; kNone on other architectures), unless a VectorIsaGuard
/// says otherwise.
VectorIsa vector_isa();

/// Restricts the kernels to `isa` (at most what the CPU has) on this thread
/// while it lives; tests use it to run each variant and the fallback alike.
class VectorIsaGuard {
 public:
  explicit VectorIsaGuard(VectorIsa isa);
  ~VectorIsaGuard();
  VectorIsaGuard(const VectorIsaGuard&) = delete;
  VectorIsaGuard& operator=(const VectorIsaGuard&) = delete;

 private:
  VectorIsa previous_;
};

}  // namespace diffeo
