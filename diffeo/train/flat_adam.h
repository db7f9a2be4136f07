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
};

/// Adam (Kingma & Ba; the update of torch::optim::Adam without weight decay)
/// over parameters that it moves into one contiguous buffer per dtype and
/// device: each parameter becomes a view of that buffer and so does its
/// gradient, which autograd then accumulates in place.  A step is one loop
/// over the buffer instead of ~10 LibTorch operators per parameter tensor, and
/// the gradient norm one reduction.  Build it after the model's last
/// to(dtype/device) (which would re-allocate the parameters); parameters that
/// do not require gradients are left alone.
class FlatAdam {
 public:
  explicit FlatAdam(const std::vector<torch::Tensor>& parameters,
                    FlatAdamOptions options = FlatAdamOptions());

  /// Sets every gradient to zero (in place: they stay views of the buffer).
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
  FlatAdamOptions options_;
  std::vector<Group> groups_;
  int64_t steps_ = 0;
};

}  // namespace diffeo::train
