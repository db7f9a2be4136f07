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
/// validate arguments first and refuse bad ones with a diffeo::Error naming
/// the distribution (e.g. "Flow", "StandardNormal"), the argument and what it
/// received: an undefined, integer or bool x; an x whose trailing dimensions
/// are not the event shape (a 0-dim x for a vector event); an x or context of
/// another dtype or device than the model; a 0-dim context, or one whose batch
/// shape does not broadcast to x's; n <= 0.  A distribution that declares
/// context features (set_context_features; every conditional flow does)
/// also refuses a call without a context or with one of another width; one
/// that declares none ignores a context apart from the sample shape.
/// The checks are cheap: shapes, dtypes and devices, no pass over the values
/// (log_prob's treatment of NaN and infinities is the model's; see flow.h).
///
/// Decided behaviours at the edges:
///  - dtype: x must have the model's dtype; float64 data is refused by a
///    float32 model, not converted (convert one of them: model->to(kFloat64)
///    gives a float64 model that takes float64 data and samples float64).
///  - empty batch: log_prob of [0, event...] returns an empty [0] (no error;
///    Glow's ActNorm does not initialise from it).
///  - batch rank: x may have any number of batch dimensions, [a, b, event...]
///    -> [a, b], with the values the flattened batch gets.
///  - n: sample and sample_and_log_prob need n >= 1; n == 0 is refused, as
///    every count in diffeo (toy data, sample_images): a zero count
///    is almost always a mistake upstream, and an empty batch for log_prob
///    is what a caller with no rows has.
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
  /// Width of the context the distribution requires (0: none required).
  int64_t context_features() const { return context_features_; }

 protected:
  virtual torch::Tensor log_prob_impl(const torch::Tensor& x, const torch::Tensor& context) = 0;
  /// Draws of shape [sample_shape..., event...]; sample_shape = [n, context batch...].
  virtual torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                                    c10::optional<at::Generator> generator) = 0;
  /// Default: sample, then log_prob with the context expanded to the draws.
  virtual SampleAndLogProb sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                                    const torch::Tensor& context,
                                                    c10::optional<at::Generator> generator);

  /// Declares that every call needs a context of `features` features (0:
  /// none needed, a context is passed on but not required): the public
  /// methods then refuse a missing context or one of another width by name.
  void set_context_features(int64_t features);

 private:
  std::vector<int64_t> sample_shape(int64_t n, const torch::Tensor& context) const;

  std::vector<int64_t> event_shape_;
  int64_t context_features_ = 0;
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
