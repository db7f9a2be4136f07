#pragma once
// Parallel loops on the OpenMP thread pool that LibTorch and OpenBLAS run on.
//
// at::parallel_for is a header template that runs in parallel only where the
// file including it is compiled with OpenMP.  diffeo is compiled by clang
// without it: clang's OpenMP runtime (libomp) is not the libgomp that Debian's
// LibTorch and OpenBLAS use, and two runtimes would each keep a pool of
// threads spinning on two cores.  So at::parallel_for in diffeo's own sources
// was a plain loop (why a parallel loop over inference blocks once measured no
// faster).  diffeo::parallel_for has its contract and runs on libgomp's pool
// through GOMP_parallel, the entry point GCC compiles `#pragma omp parallel` to.

#include <c10/util/C++17.h>  // FunctionRef.h uses it without including it
#include <c10/util/FunctionRef.h>

#include <cstdint>

namespace diffeo {

/// Calls f(b, e) on contiguous chunks that cover [begin, end), one chunk per
/// thread of LibTorch's intra-op pool (at::get_num_threads()), each at least
/// `grain` long; inline, as f(begin, end), when one chunk would do or when
/// already inside a parallel region (nested loops run on their own thread).
/// The first exception thrown by f is rethrown here.  The pool's threads do
/// not share the caller's thread-local state (grad mode and the like), so f
/// must be raw loops and BLAS calls, not autograd-recording tensor operations.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  c10::function_ref<void(int64_t, int64_t)> f);

}  // namespace diffeo
