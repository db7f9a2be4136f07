#pragma once
// Adam on one flat buffer: the optimizer of train::fit and the benchmarks.

#include <torch/torch.h>

#include <vector>

namespace diffeo::train {

/// Options of FlatAdam (torch::optim::Adam's defaults).
struct FlatAdamOptions {
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(double, beta1) = 0.9;
  TORCH_ARG(double, beta2) = 0.999;
  TORCH_ARG(double, eps) = 1e-8;
  /// zero_grad() sets the gradients of a group with at least this many
  /// elements to none instead of zeroing them: autograd then hands its gradient
  /// tensors over where it would add them into the buffer, which saves the
  /// zeroing pass and the accumulation's three passes over the gradients each
  /// step (a tenth of an image MAF's step), and step() and clip_grad_norm()
  /// read them where they are.  Below it a pass costs less than the per-tensor
  /// work of reading them one by one.  0 hands every group over; a size above
  /// every group's keeps each gradient a view of the buffer, as GradientBuckets'
  /// all-reduce needs (fit does so when distributed).
  TORCH_ARG(int64_t, hand_over_gradients_from) = int64_t{1} << 20;
};

/// Adam (Kingma & Ba; the update of torch::optim::Adam without weight decay)
/// over parameters that it moves into one contiguous buffer per dtype and
/// device: each parameter becomes a view of that buffer and so does its
/// gradient, which autograd then accumulates in place (large groups hand the
/// gradients over instead: FlatAdamOptions::hand_over_gradients_from).  A step
/// is one loop over the buffer instead of ~10 LibTorch operators per parameter
/// tensor, and the gradient norm one reduction.  Build it after the model's last
/// to(dtype/device) (which would re-allocate the parameters); parameters that
/// do not require gradients are left alone.
class FlatAdam {
 public:
  explicit FlatAdam(const std::vector<torch::Tensor>& parameters,
                    FlatAdamOptions options = FlatAdamOptions());

  /// Sets every gradient to zero, in place as a view of the buffer, or to
  /// none in a group of at least hand_over_gradients_from elements.  A
  /// gradient that was replaced (set to none by the caller) is a view again.
  void zero_grad();
  /// The global L2 norm of the gradients; when max_norm > 0 and the norm
  /// exceeds it, scales them to max_norm (as torch::nn::utils::clip_grad_norm_).
  double clip_grad_norm(double max_norm);
  /// One Adam update with the current gradients.
  void step();

  double learning_rate() const { return options_.learning_rate(); }
  void set_learning_rate(double lr) { options_.learning_rate(lr); }
  int64_t steps() const { return steps_; }

  /// The buffers, one per dtype/device group: parameters, gradients and
  /// Adam's first and second moments, each [n] (for checkpoints and tests).
  struct Group {
    torch::Tensor parameters, gradients, first_moment, second_moment;
  };
  const std::vector<Group>& groups() const { return groups_; }

  /// Sets the step count and each group's moments to values saved from
  /// steps() and groups() (a training checkpoint), so the next step() is the
  /// one the saved optimizer would have taken.  diffeo::Error when the group
  /// count or a size differs (a checkpoint of another model).
  void restore(int64_t steps, const std::vector<torch::Tensor>& first_moments,
               const std::vector<torch::Tensor>& second_moments);

 private:
  /// A parameter with its gradient's view of its group's buffer.
  struct Member {
    torch::Tensor parameter, gradient;
    int64_t offset;
  };
  // Whether every gradient of group g is its view of the buffer (as autograd
  // left it after zero_grad() without a hand-over): then one loop covers them.
  bool gradients_in_buffer(size_t g) const;

  FlatAdamOptions options_;
  std::vector<Group> groups_;
  std::vector<std::vector<Member>> members_;  // per group
  int64_t steps_ = 0;
};

}  // namespace diffeo::train
