#include "diffeo/distributions/distribution.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

DistributionImpl::DistributionImpl(std::vector<int64_t> event_shape)
    : event_shape_(std::move(event_shape)) {}

torch::Tensor DistributionImpl::log_prob(const torch::Tensor& x, const torch::Tensor& context) {
  const auto where = type_name(*this);
  check_event_shape(x, "x", event_rank(), event_shape_, where);
  check_matches_model(x, "x", *this, where);
  check_context_tensor(context, context_features_, x.options(), "'x'", where);
  if (context.defined())
    check_context_batch(context, x.sizes().slice(0, x.dim() - event_rank()), where);
  return log_prob_impl(x, context);
}

std::vector<int64_t> DistributionImpl::sample_shape(int64_t n, const torch::Tensor& context) const {
  const auto where = type_name(*this);
  check_positive(n, "n", where);
  check_context_tensor(context, context_features_, options(), "the model", where);
  std::vector<int64_t> shape{n};
  if (context.defined())
    for (int64_t i = 0; i + 1 < context.dim(); ++i) shape.push_back(context.size(i));
  return shape;
}

void DistributionImpl::set_context_features(int64_t features) {
  if (features < 0)
    throw Error(type_name(*this) + ": context features must be >= 0, got " +
                std::to_string(features));
  context_features_ = features;
}

torch::Tensor DistributionImpl::sample(int64_t n, const torch::Tensor& context,
                                       c10::optional<at::Generator> generator) {
  return sample_impl(sample_shape(n, context), context, generator);
}

SampleAndLogProb DistributionImpl::sample_and_log_prob(int64_t n, const torch::Tensor& context,
                                                       c10::optional<at::Generator> generator) {
  return sample_and_log_prob_impl(sample_shape(n, context), context, generator);
}

SampleAndLogProb DistributionImpl::sample_and_log_prob_impl(
    torch::IntArrayRef sample_shape, const torch::Tensor& context,
    c10::optional<at::Generator> generator) {
  auto draws = sample_impl(sample_shape, context, generator);
  return {draws, log_prob_impl(draws, expand_context(context, sample_shape[0]))};
}

torch::TensorOptions DistributionImpl::options() const {
  for (const auto& p : parameters())
    if (p.is_floating_point()) return p.options().requires_grad(false);
  for (const auto& b : buffers())
    if (b.is_floating_point()) return b.options();
  return torch::TensorOptions().dtype(torch::get_default_dtype());
}

torch::Tensor expand_context(const torch::Tensor& context, int64_t n) {
  if (!context.defined()) return context;
  std::vector<int64_t> shape{n};
  for (auto s : context.sizes()) shape.push_back(s);
  return context.unsqueeze(0).expand(shape);
}

}  // namespace diffeo
