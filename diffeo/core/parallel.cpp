#include "diffeo/core/parallel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <exception>

// libgomp, which LibTorch and OpenBLAS load: the parallel-region entry point
// of GCC's OpenMP ABI and the thread queries inside a region.
extern "C" {
void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
}

namespace diffeo {

namespace {

struct Loop {
  Loop(int64_t begin, int64_t end, int64_t grain, c10::function_ref<void(int64_t, int64_t)> f)
      : begin(begin), end(end), grain(grain), f(f) {}
  int64_t begin, end, grain;
  c10::function_ref<void(int64_t, int64_t)> f;
  std::atomic_flag failed = ATOMIC_FLAG_INIT;
  std::exception_ptr error;
};

int64_t divide_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One thread's share.  Like ATen, the region takes the pool's size (no
// num_threads argument: GOMP re-creates threads when it changes) and threads
// beyond the chunks the grain allows sit this loop out.
void run_chunk(void* data) {
  auto& loop = *static_cast<Loop*>(data);
  const int64_t n = loop.end - loop.begin;
  const int64_t chunks = std::min<int64_t>(omp_get_num_threads(), divide_up(n, loop.grain));
  const int64_t size = divide_up(n, chunks);
  const int64_t first = loop.begin + omp_get_thread_num() * size;
  if (first >= loop.end) return;
  try {
    loop.f(first, std::min(loop.end, first + size));
  } catch (...) {
    if (!loop.failed.test_and_set()) loop.error = std::current_exception();
  }
}

}  // namespace

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  c10::function_ref<void(int64_t, int64_t)> f) {
  if (begin >= end) return;
  grain = std::max<int64_t>(grain, 1);
  if (end - begin <= grain || at::get_num_threads() < 2 || at::in_parallel_region()) {
    f(begin, end);
    return;
  }
  Loop loop(begin, end, grain, f);
  GOMP_parallel(run_chunk, &loop, 0, 0);
  if (loop.error) std::rethrow_exception(loop.error);
}

}  // namespace diffeo
