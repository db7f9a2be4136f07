#include "diffeo/core/vector_isa.h"

#include <algorithm>

namespace diffeo {

namespace {

VectorIsa cpu_isa() {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (__builtin_cpu_supports("avx512f")) return VectorIsa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return VectorIsa::kAvx2;
#endif
  return VectorIsa::kNone;
}

const VectorIsa kCpuIsa = cpu_isa();
thread_local VectorIsa current_isa = kCpuIsa;

}  // namespace

VectorIsa vector_isa() { return current_isa; }

VectorIsaGuard::VectorIsaGuard(VectorIsa isa) : previous_(current_isa) {
  current_isa = std::min(isa, kCpuIsa);
}

VectorIsaGuard::~VectorIsaGuard() { current_isa = previous_; }

}  // namespace diffeo
