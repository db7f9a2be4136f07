#pragma once
// The bijector interface: an invertible, differentiable map with the log of the
// absolute determinant of its Jacobian.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "diffeo/core/tensor_ops.h"

namespace diffeo {

/// A transformed tensor together with log|det J| of the map that produced it.
/// `log_det` has the batch shape of the input: its shape without the trailing
/// event dimensions.
struct Result {
  torch::Tensor output;
  torch::Tensor log_det;
};

/// Base class of every bijector: an invertible map f with forward = base space ->
/// data space (the sampling direction, as in distrax and TFP) and inverse = data
/// -> base (the density direction).  Tensors are [batch..., event...]; the event
/// rank says how many trailing dimensions form one event (0 elementwise, 1 for
/// vectors, 3 for CHW images) and log_det has the batch shape.  Every call takes
/// an optional `context` (undefined = none) for conditional bijectors.
///
/// To write a bijector, subclass it, register parameters in the constructor and
/// override forward_impl and inverse_impl; the public methods validate the
/// input first (defined, floating point, event shape, dtype and device against
/// the bijector's parameters, or for a composite against the first one inside
/// it; a context, when given, floating point on the input's dtype and device),
/// so implementations can assume a good input.  Every refusal is a
/// diffeo::Error naming the bijector, the argument and what it received.
///
/// Decided behaviours at the edges: a bijector without floating-point
/// parameters (Permute, Reverse, Exp, ...) takes any floating dtype and keeps
/// it; one with parameters refuses another dtype (convert the bijector with
/// ->to(torch::kFloat64), or the input).  An empty batch [0, event...] maps to
/// [0, event...] with a log-det of shape [0]; [a, b, event...] gives the
/// values of the flattened batch (tested for the vector bijectors in
/// flows/entry_point_validation_test.cpp).
class BijectorImpl : public torch::nn::Module {
 public:
  explicit BijectorImpl(int64_t event_rank);

  /// y = f(x) and log|det df/dx|(x).
  Result forward_and_log_det(const torch::Tensor& x, const torch::Tensor& context = {});
  /// x = f^-1(y) and log|det df^-1/dy|(y) (= minus the forward log-det at x).
  Result inverse_and_log_det(const torch::Tensor& y, const torch::Tensor& context = {});
  /// f(x) alone.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});
  /// f^-1(y) alone.
  torch::Tensor inverse(const torch::Tensor& y, const torch::Tensor& context = {});

  /// Number of trailing dimensions that form one event.
  int64_t event_rank() const { return event_rank_; }

 protected:
  virtual Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) = 0;
  virtual Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) = 0;

  /// Declares the exact event shape (e.g. {2} for a 2-D rotation) so that
  /// inputs of another size are refused with a clear message.
  void set_event_shape(std::vector<int64_t> shape);
  /// Declares the shape of an elementwise bijector's parameters: inputs must
  /// end in dimensions the parameters broadcast into.
  void set_parameter_shape(torch::IntArrayRef shape);

  /// Validates an input tensor; see the class comment.
  void check_input(const torch::Tensor& t, const std::string& arg,
                   const torch::Tensor& context) const;

 private:
  int64_t event_rank_;
  std::vector<int64_t> event_shape_;      // empty: any size
  std::vector<int64_t> parameter_shape_;  // elementwise broadcast check
};

/// A shared handle to any bijector, as TORCH_MODULE gives for concrete types;
/// every concrete holder (Shift, Chain, ...) converts to it implicitly.
class Bijector : public torch::nn::ModuleHolder<BijectorImpl> {
 public:
  Bijector(std::nullptr_t) : ModuleHolder(nullptr) {}
  template <typename T, typename = std::enable_if_t<std::is_base_of<BijectorImpl, T>::value>>
  Bijector(std::shared_ptr<T> impl)
      : ModuleHolder(std::shared_ptr<BijectorImpl>(std::move(impl))) {}
  template <typename T, typename = std::enable_if_t<std::is_base_of<BijectorImpl, T>::value>>
  Bijector(const torch::nn::ModuleHolder<T>& holder)
      : ModuleHolder(std::shared_ptr<BijectorImpl>(holder.ptr())) {}
};

/// A zero log-det with the batch shape of `x` for a bijector of `event_rank`.
torch::Tensor zero_log_det(const torch::Tensor& x, int64_t event_rank);

}  // namespace diffeo
