#pragma once
// Internal to the fused flow layers (fused_affine.h, fused_spline.h): the one
// autograd node they share for "dense conditioner -> elementwise transform ->
// pass-through columns -> log-det sum", and the dispatch the coupling and
// autoregressive layers call.  What differs between the layers is the
// elementwise part, a Kernel (below); the rest (net input assembly, the dense
// stack's forward and backward, scattering the conditioner's input gradient
// back into x and the context, autograd's bookkeeping) is written once here.

#include <torch/torch.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/core/parallel.h"
#include "diffeo/nn/dense_kernels.h"

namespace diffeo {

/// The tensors of one fused layer (all 2-D, rows = batch).
struct ConditionedInputs {
  /// [N, D]: columns [0, split) pass through, columns [split, D) are transformed.
  torch::Tensor x;
  /// 0 for an autoregressive layer (every column transformed).
  int64_t split = 0;
  /// The conditioner's input [N, I]; undefined: x's first `split` columns
  /// (all of x when split is 0) followed by `context`.
  torch::Tensor conditioner_input;
  /// [N, C] appended to the conditioner's input taken from x; may be undefined.
  torch::Tensor context;
};

/// The fused node for `transform` with parameters from `conditioner` when one
/// applies (fused_affine, fused_spline), else nullopt and the caller takes the
/// composite path.  A conditioner whose width is not (D - split) times the
/// transform's parameters per feature is left to the composite path, which
/// reports it.
std::optional<Result> fused_layer(const Transform& transform,
                                  const std::optional<nn::DenseLayers>& conditioner,
                                  const ConditionedInputs& inputs, bool inverse);

namespace fused {

/// What every kernel needs: fusion enabled, a conditioner with kernel
/// activations, 2-D CPU float/double x of the weights' dtype.
bool kernels_apply(const std::optional<nn::DenseLayers>& conditioner, const torch::Tensor& x);

/// The rows of a fused layer's elementwise pass: x and y [N, D] (columns
/// [0, split) pass through), theta [N, F * P] with rows theta_stride apart
/// (feature-major within a row), and each row's log-det sum.
template <typename T>
struct Rows {
  const T* theta;
  int64_t theta_stride;
  const T* x;
  T* y;
  int64_t D, split;
  T* log_det;

  int64_t features() const { return D - split; }
};

/// The forward pass over rows [begin, end) one row at a time, for kernels
/// that have no faster way over many rows: the pass-through columns copied,
/// forward_row(theta, x, y, F, inverse) (returning the row's log-det) on the
/// transformed ones.
template <class Kernel, typename T>
void forward_each_row(const Kernel& kernel, const Rows<T>& rows, int64_t begin, int64_t end,
                      bool inverse) {
  const int64_t D = rows.D, split = rows.split;
  for (int64_t i = begin; i < end; ++i) {
    const T* x = rows.x + i * D;
    std::copy(x, x + split, rows.y + i * D);
    rows.log_det[i] = kernel.forward_row(rows.theta + i * rows.theta_stride, x + split,
                                         rows.y + i * D + split, rows.features(), inverse);
  }
}

/// The rows of a fused layer's elementwise backward pass: what Rows holds for
/// the forward pass, with the gradients of y and of the row log-dets coming
/// in and those of theta (rows theta_stride apart, as theta's) and x going out.
template <typename T>
struct GradientRows {
  const T* theta;
  int64_t theta_stride;
  const T* x;
  const T* grad_y;
  const T* grad_log_det;
  T* grad_theta;
  T* grad_x;
  int64_t D, split;

  int64_t features() const { return D - split; }
};

/// The backward pass over rows [begin, end) one row at a time: the
/// pass-through columns' gradients copied, backward_row(theta, x, grad_y,
/// grad_log_det, grad_theta, grad_x, F, inverse) on the transformed ones.
template <class Kernel, typename T>
void backward_each_row(const Kernel& kernel, const GradientRows<T>& rows, int64_t begin,
                       int64_t end, bool inverse) {
  const int64_t D = rows.D, split = rows.split, stride = rows.theta_stride;
  for (int64_t i = begin; i < end; ++i) {
    const T* g = rows.grad_y + i * D;
    std::copy(g, g + split, rows.grad_x + i * D);
    kernel.backward_row(rows.theta + i * stride, rows.x + i * D + split, g + split,
                        rows.grad_log_det[i], rows.grad_theta + i * stride,
                        rows.grad_x + i * D + split, rows.features(), inverse);
  }
}

// A Kernel is the elementwise part of a fused layer:
//
//   explicit Kernel(const std::vector<double>& settings);  // as passed to apply()
//   int64_t parameters_per_feature() const;                // P
//   static constexpr int64_t kValuesPerTask;  // parallel grain, in transformed values
//   // Rows [begin, end): y and the log-det sums (forward_each_row, or over
//   // many rows at once).
//   template <typename T>
//   void forward_rows(const Rows<T>& rows, int64_t begin, int64_t end, bool inverse) const;
//   // Rows [begin, end): the gradients of theta and x from those of y and of
//   // the rows' log-dets (backward_each_row, or over many rows at once).
//   template <typename T>
//   void backward_rows(const GradientRows<T>& rows, int64_t begin, int64_t end,
//                      bool inverse) const;
//
// Its settings travel as doubles because the autograd context keeps IValues.
// The node's name (CppNode<fused::ConditionedLayer<Kernel>>) carries the
// kernel's, which the tests look for.
template <class Kernel>
class ConditionedLayer : public torch::autograd::Function<ConditionedLayer<Kernel>> {
 public:
  using AutogradContext = torch::autograd::AutogradContext;
  using variable_list = torch::autograd::variable_list;

  static variable_list forward(AutogradContext* ctx, torch::Tensor x,
                               c10::optional<torch::Tensor> conditioner_input,
                               c10::optional<torch::Tensor> context, torch::TensorList weights,
                               torch::TensorList biases, torch::TensorList masks,
                               torch::TensorList degrees, int64_t activation,
                               std::vector<double> settings, bool inverse, int64_t split) {
    // Copies made here (contiguous, cat) have no requires_grad: ask first.
    const bool need_grad_net =
        x.requires_grad() || requires_grad(conditioner_input) || requires_grad(context);
    auto saved = c10::make_intrusive<Saved>();
    saved->layers = {weights.vec(), biases.vec(), masks.vec(),
                     static_cast<nn::KernelActivation>(activation), degrees.vec()};
    auto result = evaluate(Kernel(settings), saved->layers, x, conditioner_input, context, split,
                           inverse, &saved->pass);
    saved->settings = std::move(settings);
    saved->inverse = inverse;
    saved->split = split;
    saved->need_grad_net = need_grad_net;
    saved->net_from_x = !(conditioner_input && conditioner_input->defined());
    ctx->saved_data["saved"] = c10::IValue::make_capsule(std::move(saved));
    return {result.output, result.log_det};
  }

  /// What a forward pass leaves for the backward pass.
  struct Pass {
    torch::Tensor x, net_input, theta;
    nn::DenseTape tape;
  };

  /// All that backward reads, kept as one capsule: an entry of saved_data per
  /// field (a dozen string-keyed IValues, the tensor lists converted both
  /// ways) cost as much as a small layer's elementwise work.
  struct Saved : torch::CustomClassHolder {
    Pass pass;
    nn::DenseLayers layers;
    std::vector<double> settings;
    bool inverse = false, need_grad_net = false, net_from_x = false;
    int64_t split = 0;
  };

  /// The layer's forward computation; with `pass`, keeps what backward needs,
  /// without, takes the dense stack's tape-free inference path.
  static Result evaluate(const Kernel& kernel, const nn::DenseLayers& layers, torch::Tensor x,
                         const c10::optional<torch::Tensor>& conditioner_input,
                         const c10::optional<torch::Tensor>& context, int64_t split,
                         bool inverse, Pass* pass) {
    x = x.contiguous();
    torch::Tensor net_input;
    if (conditioner_input && conditioner_input->defined()) {
      net_input = conditioner_input->contiguous();
    } else {
      net_input = split > 0 ? x.narrow(1, 0, split) : x;
      net_input = context && context->defined() ? torch::cat({net_input, *context}, 1)
                                                : net_input.contiguous();
    }
    torch::Tensor theta = nn::dense_forward(layers, net_input, pass ? &pass->tape : nullptr);
    const int64_t N = x.size(0), D = x.size(1), F = D - split;
    TORCH_CHECK(theta.size(1) == F * kernel.parameters_per_feature(),
                "fused layer: the conditioner gives ", theta.size(1), " values per row, not ", F,
                " x ", kernel.parameters_per_feature());
    auto output = torch::empty_like(x);
    auto log_det = torch::empty({N}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_layer", [&] {
      const Rows<scalar_t> rows{theta.data_ptr<scalar_t>(), theta.size(1),
                                x.data_ptr<scalar_t>(),     output.data_ptr<scalar_t>(),
                                D,                          split,
                                log_det.data_ptr<scalar_t>()};
      parallel_for(0, N, rows_per_task(F), [&](int64_t begin, int64_t end) {
        kernel.forward_rows(rows, begin, end, inverse);
      });
    });
    if (pass) {
      pass->x = x;
      pass->net_input = net_input;
      pass->theta = theta;
    }
    return {output, log_det};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto capsule = ctx->saved_data["saved"].toCapsule();  // keeps `saved` alive
    const auto& saved = static_cast<const Saved&>(*capsule);
    const Kernel kernel(saved.settings);
    const torch::Tensor &x = saved.pass.x, &net_input = saved.pass.net_input,
                        &theta = saved.pass.theta;
    const int64_t split = saved.split;
    const bool inverse = saved.inverse;
    const nn::DenseLayers& layers = saved.layers;
    const auto grad_y = grads[0].contiguous(), grad_log_det = grads[1].contiguous();
    const int64_t N = x.size(0), D = x.size(1), F = D - split;
    auto grad_theta = torch::empty_like(theta);
    auto grad_x = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_layer_backward", [&] {
      const GradientRows<scalar_t> rows{theta.data_ptr<scalar_t>(),
                                        theta.size(1),
                                        x.data_ptr<scalar_t>(),
                                        grad_y.data_ptr<scalar_t>(),
                                        grad_log_det.data_ptr<scalar_t>(),
                                        grad_theta.data_ptr<scalar_t>(),
                                        grad_x.data_ptr<scalar_t>(),
                                        D,
                                        split};
      parallel_for(0, N, rows_per_task(F), [&](int64_t begin, int64_t end) {
        kernel.backward_rows(rows, begin, end, inverse);
      });
    });
    std::vector<torch::Tensor> grad_weights, grad_biases;
    torch::Tensor grad_net = nn::dense_backward(layers, net_input, saved.pass.tape, grad_theta,
                                                grad_weights, grad_biases, saved.need_grad_net);
    torch::Tensor grad_conditioner_input, grad_context;
    if (grad_net.defined()) {
      if (saved.net_from_x) {
        // The conditioner read x's first columns (all of them for split 0), then the context.
        // Added in a plain loop: two narrows and an add_ per layer were ~5% of
        // a small MAF step.
        const int64_t from_x = split > 0 ? split : D, width = grad_net.size(1);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_layer_grad_x", [&] {
          const scalar_t* gn = grad_net.data_ptr<scalar_t>();
          scalar_t* gx = grad_x.data_ptr<scalar_t>();
          for (int64_t i = 0; i < N; ++i)
            for (int64_t j = 0; j < from_x; ++j) gx[i * D + j] += gn[i * width + j];
        });
        if (width > from_x)
          grad_context = grad_net.narrow(1, from_x, grad_net.size(1) - from_x);
      } else {
        grad_conditioner_input = grad_net;
      }
    }
    variable_list out{grad_x, grad_conditioner_input, grad_context};
    out.insert(out.end(), grad_weights.begin(), grad_weights.end());
    out.insert(out.end(), grad_biases.begin(), grad_biases.end());
    // The masks, the degrees and the options: none.
    out.resize(out.size() + layers.masks.size() + layers.degrees.size() + 4);
    return out;
  }

 private:
  // The threads' grain counts values, not rows: an image row has 784 (a
  // 64-image batch is worth splitting), a 2-D flow's row one.
  static int64_t rows_per_task(int64_t F) {
    return std::max<int64_t>(1, Kernel::kValuesPerTask / std::max<int64_t>(F, 1));
  }

  static bool requires_grad(const c10::optional<torch::Tensor>& t) {
    return t.has_value() && t->defined() && t->requires_grad();
  }
};

/// The fused node with `Kernel` (configured by `settings`) for `conditioner`
/// on `inputs`: Result{[pass-through | transformed columns] [N, D], row log-dets [N]}.
template <class Kernel>
Result apply(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
             std::vector<double> settings, bool inverse) {
  auto optional = [](const torch::Tensor& t) {
    return t.defined() ? c10::optional<torch::Tensor>(t) : c10::nullopt;
  };
  // Nothing to differentiate (sampling, evaluation): no autograd node, no tape.
  bool needs_grad = false;
  for (const auto& t : {inputs.x, inputs.conditioner_input, inputs.context})
    needs_grad = needs_grad || (t.defined() && t.requires_grad());
  for (const auto* list : {&conditioner.weights, &conditioner.biases})
    for (const auto& t : *list) needs_grad = needs_grad || t.requires_grad();
  if (!torch::GradMode::is_enabled() || !needs_grad)
    return ConditionedLayer<Kernel>::evaluate(Kernel(settings), conditioner, inputs.x,
                                              optional(inputs.conditioner_input),
                                              optional(inputs.context), inputs.split, inverse,
                                              nullptr);
  // As TensorLists (not vectors), so autograd sees the weights as inputs.
  auto out = ConditionedLayer<Kernel>::apply(
      inputs.x, optional(inputs.conditioner_input), optional(inputs.context),
      torch::TensorList(conditioner.weights), torch::TensorList(conditioner.biases),
      torch::TensorList(conditioner.masks), torch::TensorList(conditioner.degrees),
      static_cast<int64_t>(conditioner.activation),
      std::move(settings), inverse, inputs.split);
  return {out[0], out[1]};
}

}  // namespace fused
}  // namespace diffeo
