#pragma once
// The distribution interface: log_prob and sample, optionally conditional.

#include <torch/torch.h>

#include <memory>
#include <type_traits>
#include <vector>

namespace diffeo {

/// Samples together with their log-densities.
struct SampleAndLogProb {
  torch::Tensor sample;
  torch::Tensor log_prob;
};

/// Base class of every distribution: a module with `log_prob` and `sample`.
/// Values are [batch..., event...] with a fixed event shape.  Every call takes
/// an optional `context` ([context batch..., features], undefined = none):
/// sample(n, context) returns [n, context batch..., event...], one draw per
/// context row and repetition.  Sampling draws from `generator` when one is
/// given (reproducible), else from LibTorch's default generator.  Samples are
/// reparameterised where the distribution allows, so gradients flow through
/// them; wrap evaluation-only code in torch::NoGradGuard or InferenceMode.
///
/// Subclasses override log_prob_impl and sample_impl; the public methods
/// validate arguments first.
class DistributionImpl : public torch::nn::Module {
 public:
  explicit DistributionImpl(std::vector<int64_t> event_shape);

  /// log p(x | context), of shape batch (x's shape without the event).
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& context = {});
  /// n draws: [n, context batch..., event...].
  torch::Tensor sample(int64_t n, const torch::Tensor& context = {},
                       c10::optional<at::Generator> generator = c10::nullopt);
  /// n draws and their log-densities in one pass (cheaper than both calls for
  /// flows, whose sampling direction yields the log-det for free).
  SampleAndLogProb sample_and_log_prob(int64_t n, const torch::Tensor& context = {},
                                       c10::optional<at::Generator> generator = c10::nullopt);

  const std::vector<int64_t>& event_shape() const { return event_shape_; }
  /// Where its values live: dtype and device of the first floating-point
  /// parameter or buffer (the default dtype on the CPU if it has none).
  torch::TensorOptions options() const;
  int64_t event_rank() const { return static_cast<int64_t>(event_shape_.size()); }

 protected:
  virtual torch::Tensor log_prob_impl(const torch::Tensor& x, const torch::Tensor& context) = 0;
  /// Draws of shape [sample_shape..., event...]; sample_shape = [n, context batch...].
  virtual torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                                    c10::optional<at::Generator> generator) = 0;
  /// Default: sample, then log_prob with the context expanded to the draws.
  virtual SampleAndLogProb sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                                    const torch::Tensor& context,
                                                    c10::optional<at::Generator> generator);

 private:
  std::vector<int64_t> sample_shape(int64_t n, const torch::Tensor& context) const;

  std::vector<int64_t> event_shape_;
};

/// A shared handle to any distribution; concrete holders convert to it.
class Distribution : public torch::nn::ModuleHolder<DistributionImpl> {
 public:
  Distribution(std::nullptr_t) : ModuleHolder(nullptr) {}
  template <typename T, typename = std::enable_if_t<std::is_base_of<DistributionImpl, T>::value>>
  Distribution(std::shared_ptr<T> impl)
      : ModuleHolder(std::shared_ptr<DistributionImpl>(std::move(impl))) {}
  template <typename T, typename = std::enable_if_t<std::is_base_of<DistributionImpl, T>::value>>
  Distribution(const torch::nn::ModuleHolder<T>& holder)
      : ModuleHolder(std::shared_ptr<DistributionImpl>(holder.ptr())) {}
};

/// The context [batch..., features] repeated n times in front:
/// [n, batch..., features]; an undefined context stays undefined.
torch::Tensor expand_context(const torch::Tensor& context, int64_t n);

}  // namespace diffeo
