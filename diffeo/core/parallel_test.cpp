// diffeo::parallel_for: every index once, chunks no smaller than the grain,
// more than one thread when the pool has them, exceptions and nesting.

#include "diffeo/core/parallel.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace diffeo {
namespace {

// Runs the test body with `threads` intra-op threads and restores the setting.
class WithThreads {
 public:
  explicit WithThreads(int threads) : saved_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~WithThreads() { at::set_num_threads(saved_); }

 private:
  int saved_;
};

struct Chunks {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<std::thread::id> threads;

  void record(int64_t begin, int64_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    ranges.emplace_back(begin, end);
    threads.insert(std::this_thread::get_id());
  }
};

TEST(ParallelFor, CoversTheRangeOnceInChunksOfAtLeastTheGrain) {
  WithThreads two(2);
  struct Range {
    int64_t begin, end, grain;
  };
  for (const Range r :
       {Range{0, 1000, 1}, Range{5, 1006, 100}, Range{-7, 93, 30}, Range{0, 3, 1}}) {
    const int64_t begin = r.begin, end = r.end, grain = r.grain;
    std::vector<std::atomic<int>> hits(end - begin);
    Chunks chunks;
    parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
      chunks.record(b, e);
      for (int64_t i = b; i < e; ++i) hits[i - begin]++;
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1) << begin << ".." << end;
    EXPECT_EQ(chunks.ranges.size(), 2u) << begin << ".." << end;
    for (const auto& [b, e] : chunks.ranges)
      if (e != end) EXPECT_GE(e - b, grain);
    EXPECT_EQ(chunks.threads.size(), 2u) << "two threads in the pool, two chunks, two threads";
  }
}

TEST(ParallelFor, OneChunkInlineWhenTheGrainOrThePoolAllowsNoMore) {
  {
    WithThreads two(2);
    Chunks chunks;
    parallel_for(0, 100, 100, [&](int64_t b, int64_t e) { chunks.record(b, e); });
    ASSERT_EQ(chunks.ranges.size(), 1u);
    EXPECT_EQ(chunks.ranges[0].first, 0);
    EXPECT_EQ(chunks.ranges[0].second, 100);
    EXPECT_EQ(*chunks.threads.begin(), std::this_thread::get_id());
  }
  {
    WithThreads one(1);
    Chunks chunks;
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) { chunks.record(b, e); });
    ASSERT_EQ(chunks.ranges.size(), 1u);
    EXPECT_EQ(*chunks.threads.begin(), std::this_thread::get_id());
  }
  int calls = 0;
  parallel_for(4, 4, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0) << "an empty range calls nothing";
}

TEST(ParallelFor, NestedLoopsRunOnTheirOwnThread) {
  WithThreads two(2);
  EXPECT_FALSE(at::in_parallel_region());
  std::atomic<int> nested_chunks{0}, inside{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    if (at::in_parallel_region()) inside++;
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      EXPECT_EQ(b, 0);
      EXPECT_EQ(e, 1000);
      nested_chunks++;
    });
  });
  EXPECT_EQ(inside.load(), 2);
  EXPECT_EQ(nested_chunks.load(), 2) << "one inline chunk per outer chunk";
}

TEST(ParallelFor, RethrowsTheFirstException) {
  WithThreads two(2);
  EXPECT_THROW(parallel_for(0, 1000, 1,
                            [&](int64_t b, int64_t) {
                              if (b > 0) throw std::runtime_error("second chunk");
                            }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 4950);
}

}  // namespace
}  // namespace diffeo
