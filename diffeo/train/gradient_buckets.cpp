#include "diffeo/train/gradient_buckets.h"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <set>

#include "diffeo/core/error.h"

namespace diffeo::train {

namespace {

// Tells the buckets that a parameter's gradient has been accumulated.
class AccumulatedHook : public torch::autograd::FunctionPostHook {
 public:
  explicit AccumulatedHook(std::function<void()> done) : done_(std::move(done)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    done_();
    return outputs;
  }

 private:
  std::function<void()> done_;
};

}  // namespace

GradientBuckets::GradientBuckets(const FlatAdam& adam, const std::vector<torch::Tensor>& parameters,
                                 distributed::ProcessGroup group, int64_t bucket_bytes)
    : group_(std::move(group)) {
  if (!group_) throw Error("GradientBuckets: needs a process group");
  if (bucket_bytes <= 0) throw Error("GradientBuckets: 'bucket_bytes' must be positive");
  // Each trainable parameter's place in its group's flat gradient buffer.
  struct Place {
    torch::Tensor parameter;
    int64_t offset, numel;
  };
  std::set<const void*> seen;
  for (const auto& g : adam.groups()) {
    const auto* base = static_cast<const char*>(g.gradients.data_ptr());
    const int64_t element = g.gradients.element_size(), total = g.gradients.numel();
    std::vector<Place> places;
    for (const auto& p : parameters) {
      if (!p.requires_grad() || !p.grad().defined() || !seen.insert(p.unsafeGetTensorImpl()).second)
        continue;
      const auto* at = static_cast<const char*>(p.grad().data_ptr());
      if (at < base || at >= base + total * element) {
        seen.erase(p.unsafeGetTensorImpl());  // another group's
        continue;
      }
      places.push_back({p, (at - base) / element, p.numel()});
    }
    // Backward reaches the last layers first: buckets from the buffer's end.
    std::sort(places.begin(), places.end(),
              [](const Place& a, const Place& b) { return a.offset > b.offset; });
    int64_t end = total;
    for (size_t i = 0; i < places.size();) {
      Bucket bucket;
      int64_t start = end;
      while (i < places.size() && ((end - start) * element < bucket_bytes || bucket.members == 0)) {
        const auto& place = places[i++];
        start = place.offset;
        ++bucket.members;
        auto accumulator = torch::autograd::impl::grad_accumulator(place.parameter);
        const size_t index = buckets_.size();
        const auto key = accumulator->add_post_hook(
            std::make_unique<AccumulatedHook>([this, index] { gradient_ready(index); }));
        hooks_.emplace_back(std::move(accumulator), key);
      }
      bucket.gradients = g.gradients.narrow(0, start, end - start);
      buckets_.push_back(bucket);
      end = start;
    }
  }
}

GradientBuckets::~GradientBuckets() {
  for (auto& [accumulator, key] : hooks_) accumulator->del_post_hook(key);
  // Sums still in flight when a step failed (a peer died): wait for them to
  // end before their buffers go, and swallow their errors (the step's error
  // is already on its way; a destructor must not throw).
  for (auto& work : works_) {
    try {
      work->wait();
    } catch (...) {
    }
  }
}

void GradientBuckets::arm() {
  for (auto& b : buckets_) b.pending = b.members;
  next_ = 0;
  works_.clear();
  armed_ = true;
}

void GradientBuckets::gradient_ready(size_t bucket) {
  if (!armed_) return;  // a backward pass outside fit's steps
  if (--buckets_[bucket].pending == 0) launch_complete();
}

void GradientBuckets::launch_complete() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
    std::vector<torch::Tensor> tensors{buckets_[next_].gradients};
    works_.push_back(group_->allreduce(tensors));
    ++next_;
  }
}

void GradientBuckets::finish() {
  for (auto& b : buckets_) b.pending = 0;  // parameters without a gradient this step
  launch_complete();
  armed_ = false;
  while (!works_.empty()) {
    const auto work = works_.front();
    works_.erase(works_.begin());
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw Error(std::string("fit: the gradient all-reduce failed: ") + e.what());
    }
  }
}

}  // namespace diffeo::train
