#include "diffeo/bijectors/fused_affine.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "diffeo/core/fusion.h"

namespace diffeo {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Row i of x and of the output holds D values: the first s pass through, the
// other F = D - s are transformed with theta[i, f] = (shift, r) and
// s = bound * tanh(r / bound):
//   forward  y = x e^s + shift,     log-det  s
//   inverse  y = (x - shift) e^-s,  log-det -s
// and the log-dets summed per row.
template <typename T>
void affine_forward(const T* theta, const T* x, T* y, T* log_det, int64_t N, int64_t D,
                    int64_t s, T bound, bool inverse) {
  const int64_t F = D - s;
  at::parallel_for(0, N, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* row = x + i * D;
      T* out = y + i * D;
      const T* th = theta + i * 2 * F;
      for (int64_t j = 0; j < s; ++j) out[j] = row[j];
      T sum = 0;
      for (int64_t f = 0; f < F; ++f) {
        const T shift = th[2 * f], scale = bound * std::tanh(th[2 * f + 1] / bound);
        out[s + f] = inverse ? (row[s + f] - shift) * std::exp(-scale)
                             : row[s + f] * std::exp(scale) + shift;
        sum += scale;
      }
      log_det[i] = inverse ? -sum : sum;
    }
  });
}

// The backward of affine_forward: gradients of theta and x from those of the
// output and of the row log-dets; d(scale)/dr = 1 - (scale / bound)^2.
template <typename T>
void affine_backward(const T* theta, const T* x, const T* grad_y, const T* grad_log_det,
                     T* grad_theta, T* grad_x, int64_t N, int64_t D, int64_t s, T bound,
                     bool inverse) {
  const int64_t F = D - s;
  at::parallel_for(0, N, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* row = x + i * D;
      const T* g = grad_y + i * D;
      const T* th = theta + i * 2 * F;
      T* gx = grad_x + i * D;
      T* gth = grad_theta + i * 2 * F;
      for (int64_t j = 0; j < s; ++j) gx[j] = g[j];
      for (int64_t f = 0; f < F; ++f) {
        const T shift = th[2 * f], scale = bound * std::tanh(th[2 * f + 1] / bound);
        const T dscale_dr = 1 - (scale / bound) * (scale / bound);
        const T gy = g[s + f];
        T grad_scale;
        if (inverse) {
          const T e = std::exp(-scale), y = (row[s + f] - shift) * e;
          gx[s + f] = gy * e;
          gth[2 * f] = -gy * e;
          grad_scale = -gy * y - grad_log_det[i];
        } else {
          const T e = std::exp(scale);
          gx[s + f] = gy * e;
          gth[2 * f] = gy;
          grad_scale = gy * row[s + f] * e + grad_log_det[i];
        }
        gth[2 * f + 1] = grad_scale * dscale_dr;
      }
    }
  });
}

bool requires_grad(const c10::optional<torch::Tensor>& t) {
  return t.has_value() && t->defined() && t->requires_grad();
}

class FusedAffine : public torch::autograd::Function<FusedAffine> {
 public:
  static variable_list forward(AutogradContext* ctx, torch::Tensor x,
                               c10::optional<torch::Tensor> conditioner_input,
                               c10::optional<torch::Tensor> context, torch::TensorList weights,
                               torch::TensorList biases, torch::TensorList masks,
                               int64_t activation, double bound, bool inverse, int64_t split) {
    nn::DenseLayers layers{weights.vec(), biases.vec(), masks.vec(),
                           static_cast<nn::KernelActivation>(activation)};
    // Copies made here (contiguous, cat) have no requires_grad: ask first.
    const bool need_grad_net =
        x.requires_grad() || requires_grad(conditioner_input) || requires_grad(context);
    x = x.contiguous();
    torch::Tensor net_input;
    if (conditioner_input && conditioner_input->defined()) {
      net_input = conditioner_input->contiguous();
    } else {
      net_input = split > 0 ? x.narrow(1, 0, split) : x;
      net_input = context && context->defined() ? torch::cat({net_input, *context}, 1)
                                                : net_input.contiguous();
    }
    nn::DenseTape tape;
    auto theta = nn::dense_forward(layers, net_input, &tape);
    const int64_t N = x.size(0), D = x.size(1);
    auto output = torch::empty_like(x);
    auto log_det = torch::empty({N}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_affine", [&] {
      affine_forward(theta.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                     output.data_ptr<scalar_t>(), log_det.data_ptr<scalar_t>(), N, D, split,
                     static_cast<scalar_t>(bound), inverse);
    });
    auto& data = ctx->saved_data;
    data["x"] = x;
    data["net_input"] = net_input;
    data["theta"] = theta;
    data["weights"] = tape.weights;
    data["hidden"] = tape.hidden;
    data["biases"] = layers.biases;
    data["masks"] = layers.masks;
    data["activation"] = activation;
    data["bound"] = bound;
    data["inverse"] = inverse;
    data["split"] = split;
    data["need_grad_net"] = need_grad_net;
    data["net_from_x"] = !(conditioner_input && conditioner_input->defined());
    return {output, log_det};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& data = ctx->saved_data;
    const auto x = data["x"].toTensor(), net_input = data["net_input"].toTensor();
    const auto theta = data["theta"].toTensor();
    const int64_t split = data["split"].toInt();
    nn::DenseLayers layers{{}, data["biases"].toTensorVector(), data["masks"].toTensorVector(),
                           static_cast<nn::KernelActivation>(data["activation"].toInt())};
    nn::DenseTape tape{data["weights"].toTensorVector(), data["hidden"].toTensorVector()};
    const auto grad_y = grads[0].contiguous(), grad_log_det = grads[1].contiguous();
    const int64_t N = x.size(0), D = x.size(1);
    auto grad_theta = torch::empty_like(theta);
    auto grad_x = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_affine_backward", [&] {
      affine_backward(theta.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                      grad_y.data_ptr<scalar_t>(), grad_log_det.data_ptr<scalar_t>(),
                      grad_theta.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(), N, D, split,
                      static_cast<scalar_t>(data["bound"].toDouble()), data["inverse"].toBool());
    });
    std::vector<torch::Tensor> grad_weights, grad_biases;
    auto grad_net = nn::dense_backward(layers, net_input, tape, grad_theta, grad_weights,
                                       grad_biases, data["need_grad_net"].toBool());
    torch::Tensor grad_conditioner_input, grad_context;
    if (grad_net.defined()) {
      if (data["net_from_x"].toBool()) {
        // The conditioner read x's first columns (all of them for split 0), then the context.
        const int64_t from_x = split > 0 ? split : D;
        grad_x.narrow(1, 0, from_x).add_(grad_net.narrow(1, 0, from_x));
        if (grad_net.size(1) > from_x)
          grad_context = grad_net.narrow(1, from_x, grad_net.size(1) - from_x);
      } else {
        grad_conditioner_input = grad_net;
      }
    }
    variable_list out{grad_x, grad_conditioner_input, grad_context};
    out.insert(out.end(), grad_weights.begin(), grad_weights.end());
    out.insert(out.end(), grad_biases.begin(), grad_biases.end());
    out.resize(out.size() + layers.masks.size() + 4);  // masks and the options: none
    return out;
  }
};

}  // namespace

Result fused_affine(const nn::DenseLayers& conditioner, const ConditionedInputs& inputs,
                    double bound, bool inverse) {
  auto optional = [](const torch::Tensor& t) {
    return t.defined() ? c10::optional<torch::Tensor>(t) : c10::nullopt;
  };
  // As TensorLists (not vectors), so autograd sees the weights as inputs.
  auto out = FusedAffine::apply(inputs.x, optional(inputs.conditioner_input),
                                optional(inputs.context), torch::TensorList(conditioner.weights),
                                torch::TensorList(conditioner.biases),
                                torch::TensorList(conditioner.masks),
                                static_cast<int64_t>(conditioner.activation), bound, inverse,
                                inputs.split);
  return {out[0], out[1]};
}

bool can_fuse_affine(const Transform& transform, const std::optional<nn::DenseLayers>& conditioner,
                     const torch::Tensor& x) {
  if (!fused_kernels_enabled() || !conditioner || conditioner->weights.empty()) return false;
  if (!dynamic_cast<const AffineTransform*>(transform.get())) return false;
  const auto& w = conditioner->weights.front();
  return x.dim() == 2 && x.device().is_cpu() && w.device().is_cpu() && x.dtype() == w.dtype() &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

}  // namespace diffeo
