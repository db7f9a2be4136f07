#pragma once
// Data parallelism's gradient all-reduce, overlapped with the backward pass.

#include <torch/csrc/autograd/function.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "diffeo/distributed/collectives.h"
#include "diffeo/train/flat_adam.h"

namespace diffeo::train {

/// FlatAdam's flat gradient buffers cut into buckets of about `bucket_bytes`
/// (contiguous ranges, the last parameters' first, in the order backward
/// produces them), each summed over the ranks asynchronously as soon as
/// autograd has accumulated every gradient in it, so communication overlaps
/// the rest of the backward pass (PyTorch DDP's scheme).  Buckets are launched
/// in the same order on every rank, as c10d requires.  Hooks on the
/// parameters' gradient accumulators do the counting; they are removed when
/// the object goes.  Between arm() and finish() the gradients must come from
/// one backward pass.
class GradientBuckets {
 public:
  GradientBuckets(const FlatAdam& adam, const std::vector<torch::Tensor>& parameters,
                  distributed::ProcessGroup group, int64_t bucket_bytes);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  /// Before a backward pass: every bucket waits for its gradients again.
  void arm();
  /// After it: launches the buckets still waiting (parameters that got no
  /// gradient this step), in order, and waits until every sum is in place.
  void finish();
  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    torch::Tensor gradients;  // a contiguous range of a flat gradient buffer
    int members = 0, pending = 0;
  };
  void gradient_ready(size_t bucket);
  void launch_complete();  // launches buckets from next_ on while complete

  distributed::ProcessGroup group_;
  std::vector<Bucket> buckets_;
  size_t next_ = 0;
  bool armed_ = false;
  std::vector<c10::intrusive_ptr<c10d::Work>> works_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;
};

}  // namespace diffeo::train
