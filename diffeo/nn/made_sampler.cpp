#include "diffeo/nn/made_sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/fusion.h"
#include "diffeo/core/parallel.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/nn/dense_kernels.h"

namespace diffeo::nn {

namespace {

// Batch columns per parallel task: enough elements that a task outweighs its dispatch.
constexpr int64_t kElementsPerTask = 1 << 18;

// The MADE's units sorted by degree, layer by layer, and the running state of
// the pass.  Unit set k is the inputs (k = 0), hidden layer k, or the outputs
// (k = L + 1, P per feature); units[k][j] is the MADE's index of the j-th unit
// in degree order.  states[k] [units, N] holds one row per unit in that order
// and one column per batch row (so that a unit's update is one contiguous
// axpy): the inputs once fixed; the hidden units' pre-activations, which grow
// as their sources become final and are activated in place once complete; the
// output parameters.  Layer l maps set l to set l + 1 with the MADE's weight,
// read in place (weights[l][units[l + 1][j], units[l][i]]).  Its sources of
// degree m are the rows [source_start[l][m], source_start[l][m + 1]); its
// targets from first_target[l][m] on are those their mask lets them reach
// (degree >= m, > m for the outputs), so the weights outside those ranges,
// which the masks zero, are never read.
struct SortedMADE {
  std::vector<torch::Tensor> weights, states;
  std::vector<std::vector<int64_t>> units, source_start, first_target;
};

std::vector<int64_t> as_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// For m = 0..last: how many of the ascending `degrees` are < m (or <= m when `inclusive`).
std::vector<int64_t> counts_below(const std::vector<int64_t>& degrees, int64_t last,
                                  bool inclusive) {
  std::vector<int64_t> counts;
  for (int64_t m = 0; m <= last; ++m) {
    auto it = inclusive ? std::upper_bound(degrees.begin(), degrees.end(), m)
                        : std::lower_bound(degrees.begin(), degrees.end(), m);
    counts.push_back(it - degrees.begin());
  }
  return counts;
}

SortedMADE sort_made(const MADEImpl& made, const torch::Tensor& context, int64_t rows) {
  const int64_t D = made.options().features();
  std::vector<torch::Tensor> degrees;
  for (const auto& d : made.layer_degrees()) degrees.push_back(d.to(torch::kLong));
  SortedMADE s;
  std::vector<std::vector<int64_t>> sorted;
  std::vector<torch::Tensor> orders;
  for (const auto& d : degrees) {
    // Stable, so that equal degrees keep the MADE's order.
    auto [values, order] = torch::sort(d, c10::optional<bool>(true), 0);
    sorted.push_back(as_vector(values));
    s.units.push_back(as_vector(order));
    orders.push_back(order);
  }
  const auto options = made.weights().front().options();
  s.states.push_back(torch::zeros({D, rows}, options));
  const size_t layers = made.weights().size();
  for (size_t l = 0; l < layers; ++l) {
    s.weights.push_back(made.weights()[l].contiguous());
    const auto order = orders[l + 1].to(options.device());
    auto state = made.biases()[l].index_select(0, order).unsqueeze(1).expand({-1, rows});
    if (const auto& c = made.context_layer(); l == 0 && c)
      state = state + torch::linear(context, c->weight, c->bias).t().index_select(0, order);
    s.states.push_back(state.contiguous());
    s.source_start.push_back(counts_below(sorted[l], D + 1, /*inclusive=*/false));
    s.first_target.push_back(counts_below(sorted[l + 1], D, /*inclusive=*/l + 1 == layers));
  }
  return s;
}

template <typename T>
void activate_range(T* __restrict h, int64_t n, KernelActivation activation) {
  if (activation == KernelActivation::kRelu)
    for (int64_t i = 0; i < n; ++i) h[i] = h[i] > T(0) ? h[i] : T(0);
  else
    for (int64_t i = 0; i < n; ++i) h[i] = std::tanh(h[i]);
}

template <typename T>
void add_scaled(T* __restrict target, const T* __restrict source, T scale, int64_t n) {
  for (int64_t i = 0; i < n; ++i) target[i] += scale * source[i];
}

// Batch columns [begin, end): the units of degree m have become final in
// every layer's sources (the inputs of degree m, given; the hidden units of
// degree m, once their own sources of degree m are added): activate them and
// add them into the targets that take them.  Layer by layer, so that each
// layer's units of degree m are complete before they are activated.
template <typename T>
void propagate(const SortedMADE& s, KernelActivation activation, int64_t m, int64_t begin,
               int64_t end) {
  const int64_t N = s.states.front().size(1), width = end - begin;
  for (size_t l = 0; l < s.weights.size(); ++l) {
    const int64_t first = s.source_start[l][m], last = s.source_start[l][m + 1];
    if (first == last) continue;
    T* sources = s.states[l].data_ptr<T>() + begin;
    if (l > 0)
      for (int64_t i = first; i < last; ++i) activate_range(sources + i * N, width, activation);
    const T* weights = s.weights[l].data_ptr<T>();
    const int64_t in = s.weights[l].size(1), out = s.states[l + 1].size(0);
    const auto &source_units = s.units[l], &target_units = s.units[l + 1];
    T* targets = s.states[l + 1].data_ptr<T>() + begin;
    for (int64_t j = s.first_target[l][m]; j < out; ++j) {
      const T* row = weights + target_units[j] * in;
      for (int64_t i = first; i < last; ++i)
        add_scaled(targets + j * N, sources + i * N, row[source_units[i]], width);
    }
  }
}

}  // namespace

bool made_autoregressive_pass_applies(const MADEImpl& made, const torch::Tensor& x,
                                      const torch::Tensor& context) {
  if (!fused_kernels_enabled() || !kernel_activation(made.options().activation())) return false;
  const auto& w = made.weights().front();
  if (!w.device().is_cpu() ||
      (w.scalar_type() != torch::kFloat && w.scalar_type() != torch::kDouble))
    return false;
  const bool uses_context = made.options().context_features() > 0;
  for (const auto& t : {x, uses_context ? context : torch::Tensor()})
    if (t.defined() && (!t.device().is_cpu() || t.scalar_type() != w.scalar_type())) return false;
  if (!torch::GradMode::is_enabled()) return true;
  if (x.requires_grad() || (uses_context && context.defined() && context.requires_grad()))
    return false;
  for (const auto& p : made.parameters())
    if (p.requires_grad()) return false;
  return true;
}

void made_autoregressive_pass(const MADEImpl& made, const torch::Tensor& x,
                              const torch::Tensor& context, const FeatureStep& step) {
  const int64_t D = made.options().features(), P = made.options().outputs_per_feature();
  if (x.dim() < 1 || x.size(-1) != D || !made_autoregressive_pass_applies(made, x, context))
    throw Error("made_autoregressive_pass: needs x [batch..., " + std::to_string(D) + "] (got " +
                shape_string(x.sizes()) +
                ") where made_autoregressive_pass_applies (CPU float/double, a relu or tanh "
                "MADE, no gradients, fused kernels on)");
  const int64_t C = made.options().context_features();
  const int64_t rows = x.numel() / D;
  torch::Tensor flat_context;
  if (C > 0) flat_context = expand_context_to(context, x, 1, C, "MADE").reshape({rows, C});
  const auto s = sort_made(made, flat_context, rows);
  const auto activation = *kernel_activation(made.options().activation());
  int64_t units = 0;
  for (const auto& state : s.states) units += state.size(0);
  const int64_t grain = std::max<int64_t>(1, kElementsPerTask / units);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "made_autoregressive_pass", [&] {
    auto propagate_all = [&](int64_t m) {
      parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
        propagate<scalar_t>(s, activation, m, begin, end);
      });
    };
    propagate_all(0);  // the context's units
    for (int64_t m = 1; m <= D; ++m) {
      auto params = s.states.back().narrow(0, (m - 1) * P, P).t();
      auto values = step(s.units.front()[m - 1], params).reshape({rows});
      s.states.front().select(0, m - 1).copy_(values);
      if (m < D) propagate_all(m);
    }
  });
}

}  // namespace diffeo::nn
