#include "diffeo/core/tensor_ops.h"

#include <algorithm>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

torch::Tensor sum_rightmost(const torch::Tensor& t, int64_t n) {
  if (n == 0) return t;
  std::vector<int64_t> dims;
  for (int64_t i = 1; i <= n; ++i) dims.push_back(-i);
  return t.sum(dims);
}

namespace {

class SumOfTerms : public torch::autograd::Function<SumOfTerms> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::TensorList terms) {
    ctx->saved_data["terms"] = static_cast<int64_t>(terms.size());
    auto out = torch::empty_like(terms[0]);
    const int64_t n = out.numel();
    AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "sum_terms", [&] {
      scalar_t* o = out.data_ptr<scalar_t>();
      std::copy_n(terms[0].data_ptr<scalar_t>(), n, o);
      for (size_t t = 1; t < terms.size(); ++t) {
        const scalar_t* v = terms[t].data_ptr<scalar_t>();
        for (int64_t i = 0; i < n; ++i) o[i] += v[i];
      }
    });
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    // d(sum)/d(term) is the identity: every term gets the same gradient, as
    // autograd's own AddBackward hands it to both operands.
    return torch::autograd::variable_list(ctx->saved_data["terms"].toInt(), grads[0]);
  }
};

bool sum_in_one_node(const std::vector<torch::Tensor>& terms, torch::IntArrayRef shape,
                     const torch::TensorOptions& options) {
  const auto dtype = c10::typeMetaToScalarType(options.dtype());
  if (terms.empty() || !options.device().is_cpu() ||
      (dtype != torch::kFloat && dtype != torch::kDouble))
    return false;
  for (const auto& t : terms)
    if (!t.device().is_cpu() || t.scalar_type() != dtype || !t.sizes().equals(shape) ||
        !t.is_contiguous())
      return false;
  return true;
}

}  // namespace

torch::Tensor sum_terms(const std::vector<torch::Tensor>& terms, torch::IntArrayRef shape,
                        const torch::TensorOptions& options) {
  // 0 + t is t exactly, so starting from the first term keeps the fold's bits.
  // As a TensorList (not a vector), so autograd sees the terms as inputs.
  if (sum_in_one_node(terms, shape, options)) return SumOfTerms::apply(torch::TensorList(terms));
  auto sum = torch::zeros(shape, options);
  for (const auto& t : terms) sum = sum + t;
  return sum;
}

// v - v is 0 for a finite v and NaN for an infinite or NaN one, and NaN
// survives the sum: a branch-free loop the compiler vectorises.
template <typename T>
static bool finite_values(const T* v, int64_t n) {
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += v[i] - v[i];
  return sum == 0;
}

bool all_finite(const torch::Tensor& t) {
  if (t.device().is_cpu() && t.is_contiguous()) {
    if (t.scalar_type() == torch::kFloat) return finite_values(t.data_ptr<float>(), t.numel());
    if (t.scalar_type() == torch::kDouble) return finite_values(t.data_ptr<double>(), t.numel());
  }
  return torch::isfinite(t).all().item<bool>();
}

torch::Tensor expand_context_to(const torch::Tensor& context, const torch::Tensor& x,
                                int64_t x_event_rank, int64_t features, const std::string& where) {
  check_context_tensor(context, features, x.options(), "the input", where);
  auto shape = x.sizes().slice(0, x.dim() - x_event_rank).vec();
  check_context_batch(context, shape, where);
  shape.push_back(context.size(-1));
  return context.expand(shape);
}

torch::Tensor as_index(const torch::Tensor& indices, const torch::Tensor& like) {
  return indices.to(like.device(), torch::kLong);
}

torch::Tensor register_value(torch::nn::Module& module, const std::string& name,
                             torch::Tensor value, bool learnable) {
  // A copy: registering must not alias the caller's tensor or turn on its requires_grad.
  auto own = value.detach().clone();
  return learnable ? module.register_parameter(name, own) : module.register_buffer(name, own);
}

torch::Tensor in_chunks(int64_t n, int64_t chunk,
                        const std::function<torch::Tensor(int64_t start, int64_t rows)>& block) {
  if (n < 0) throw Error("in_chunks: argument 'n' must be >= 0, got " + std::to_string(n));
  check_positive(chunk, "chunk", "in_chunks");
  // No rows is an empty batch (log_prob_in_chunks of a [0, D] set), not a
  // mistaken count: one empty block gives the result its shape and dtype.
  if (n == 0) return block(0, 0);
  torch::Tensor result;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const auto part = block(start, rows);
    if (!result.defined()) {
      auto shape = part.sizes().vec();
      shape[0] = n;
      result = torch::empty(shape, part.options());
    }
    result.narrow(0, start, rows).copy_(part);
  }
  return result;
}

}  // namespace diffeo
