#include "diffeo/bijectors/autoregressive.h"

#include "diffeo/bijectors/fused_layer.h"
#include "diffeo/core/error.h"
#include "diffeo/nn/made_sampler.h"

namespace diffeo {

MaskedAutoregressiveImpl::MaskedAutoregressiveImpl(nn::MADE made, Transform transform)
    : BijectorImpl(1), made_(std::move(made)), transform_(std::move(transform)) {
  if (made_.is_empty()) throw Error("MaskedAutoregressive: argument 'made' is empty");
  if (!transform_) throw Error("MaskedAutoregressive: argument 'transform' is null");
  if (made_->options().outputs_per_feature() != transform_->parameters_per_feature())
    throw Error("MaskedAutoregressive: the MADE gives " +
                std::to_string(made_->options().outputs_per_feature()) +
                " outputs per feature but the '" + transform_->name() + "' transform needs " +
                std::to_string(transform_->parameters_per_feature()));
  register_module("made", made_);
  set_event_shape({made_->options().features()});
}

// The fused MADE + affine or spline node where it applies (see fused_layer.h):
// parameters from made(net_input), transform of target.
std::optional<Result> MaskedAutoregressiveImpl::fused(const torch::Tensor& net_input,
                                                      const torch::Tensor& target, bool inverse) {
  return fused_layer(transform_, made_->dense_layers(),
                     {target, 0, net_input.is_same(target) ? torch::Tensor() : net_input, {}},
                     inverse);
}

Result MaskedAutoregressiveImpl::inverse_impl(const torch::Tensor& y,
                                              const torch::Tensor& context) {
  if (auto r = fused(y, y, /*inverse=*/true)) return *r;
  auto r = transform_->apply(y, made_->forward(y, context), /*inverse=*/true);
  return {r.output, r.log_det.sum(-1)};
}

// Each coordinate is transformed as soon as the incremental MADE pass has its
// parameters; the log-dets are summed at the end, in the D-pass path's order.
Result MaskedAutoregressiveImpl::incremental_forward(const torch::Tensor& x,
                                                     const torch::Tensor& context) {
  const auto D = made_->options().features();
  const auto flat = x.reshape({-1, D});
  auto y = torch::empty_like(flat), log_det = torch::empty_like(flat);
  nn::made_autoregressive_pass(*made_, x, context, [&](int64_t i, const torch::Tensor& params) {
    auto r = transform_->apply(flat.narrow(1, i, 1), params.unsqueeze(1), /*inverse=*/false);
    y.narrow(1, i, 1).copy_(r.output);
    log_det.narrow(1, i, 1).copy_(r.log_det);
    return r.output;
  });
  auto batch = x.sizes().vec();
  batch.pop_back();
  return {y.view(x.sizes()), log_det.sum(-1).view(batch)};
}

// Otherwise pass k fixes coordinate k of the autoregressive order: its
// parameters depend only on coordinates fixed in earlier passes.  After the
// last pass every parameter is final, so that pass's output and log-det are exact.
Result MaskedAutoregressiveImpl::forward_impl(const torch::Tensor& x,
                                              const torch::Tensor& context) {
  const auto D = made_->options().features();
  if (D >= kIncrementalFeatures && nn::made_autoregressive_pass_applies(*made_, x, context))
    return incremental_forward(x, context);
  const auto order = made_->input_degrees().to(x.options());
  auto y = torch::zeros_like(x);
  Result r;
  int64_t first_pass = 1;
  if (D > 1 && made_->options().context_features() == 0) {
    // MADE connects the outputs of a coordinate only to inputs of lower degree,
    // so without a context the degree-1 coordinate's parameters are constants
    // (an unconditional MADE ignores a context it is handed):
    // one row of the network gives them for every row, instead of a full pass,
    // and only that coordinate is transformed.
    const int64_t j = made_->input_degrees().argmin().item<int64_t>();
    auto params = made_->forward(torch::zeros({1, D}, x.options())).select(1, j);  // [1, P]
    std::vector<int64_t> shape(x.dim() + 1, 1);
    shape[x.dim()] = params.size(-1);
    auto batch = x.sizes().vec();
    batch.back() = 1;
    batch.push_back(params.size(-1));
    const auto column = x.narrow(-1, j, 1);
    auto first = transform_->apply(column, params.view(shape).expand(batch), /*inverse=*/false);
    y.narrow(-1, j, 1).copy_(first.output);
    first_pass = 2;
  }
  for (int64_t k = first_pass; k <= D; ++k) {
    if (auto fused_step = fused(y, x, /*inverse=*/false)) {
      r = *fused_step;
    } else {
      r = transform_->apply(x, made_->forward(y, context), /*inverse=*/false);
      r.log_det = r.log_det.sum(-1);
    }
    // The last pass's outputs are all final.
    if (k < D) y = torch::where(order <= k, r.output, y);
  }
  return r;
}

}  // namespace diffeo
