#include "diffeo/train/image_training.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/dequantize.h"

namespace diffeo::train {

torch::Tensor one_hot(const torch::Tensor& labels, int64_t classes) {
  check_positive(classes, "classes", "train::one_hot");
  if (labels.numel() > 0 &&
      (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= classes))
    throw Error("train::one_hot: argument 'labels' must lie in 0.." + std::to_string(classes - 1));
  return torch::one_hot(labels.to(torch::kLong), classes)
      .to(c10::typeMetaToScalarType(torch::get_default_dtype()));
}

namespace {
const torch::Tensor& checked_images(const torch::Tensor& pixels, const torch::Tensor& labels,
                                    int64_t classes) {
  const std::string where = "train::ImageBatches";
  if (!pixels.defined() || pixels.dim() != 4 || pixels.is_floating_point())
    throw Error(where + ": argument 'pixels' must be 8-bit images [N, C, H, W] of an integer dtype");
  check_positive(classes, "classes", where);
  if (labels.defined() && (labels.dim() != 1 || labels.scalar_type() != torch::kLong))
    throw Error(where + ": argument 'labels' must be int64 class indices [N]");
  return pixels;
}
}  // namespace

ImageBatches::ImageBatches(const torch::Tensor& pixels, const torch::Tensor& labels, int64_t classes)
    : images_({{"pixels", checked_images(pixels, labels, classes)}, {"labels", labels}}),
      classes_(classes) {}

std::vector<torch::Tensor> ImageBatches::batch(int64_t step, int64_t global_rows,
                                               const distributed::Shard& shard, uint64_t seed,
                                               at::Generator& generator) {
  auto columns = images_.batch(step, global_rows, shard, seed, generator);
  auto x = data::dequantize(columns[0], generator).flatten(1);
  return {x, columns[1].defined() ? train::one_hot(columns[1], classes_) : torch::Tensor()};
}

Estimate bits_per_dim(Distribution model, const torch::Tensor& pixels, const torch::Tensor& context,
                      uint64_t seed) {
  if (!pixels.defined() || pixels.dim() < 2 || pixels.size(0) == 0)
    throw Error("train::bits_per_dim: argument 'pixels' must be [N >= 1, ...] images");
  const int64_t n = pixels.size(0), dim = pixels[0].numel();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto v = data::dequantize(pixels, generator).reshape({n, dim});
  const auto log_prob = log_prob_in_chunks(model, v, 1000, context);
  const auto nats = mean_estimate(log_prob);
  return {data::bits_per_dim(nats.mean, dim), nats.standard_error / (dim * std::log(2.0))};
}

torch::Tensor sample_images(flows::Flow flow, int64_t n, at::Generator generator,
                            double temperature, const torch::Tensor& context) {
  const auto options = flow->flow_options();
  const auto& shape = options.image_shape();
  if (shape.size() != 3)
    throw Error("train::sample_images: the flow has no image_shape; it models vectors of size " +
                std::to_string(options.dim()));
  check_positive(n, "n", "train::sample_images");
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw Error("train::sample_images: argument 'temperature' must be positive, got " +
                number_string(temperature));
  c10::InferenceMode inference;
  auto z = torch::randn({n, options.dim()}, generator, flow->options().dtype()) * temperature;
  auto v = flow->bijector()->forward(z, context);
  return v.reshape({n, shape[0], shape[1], shape[2]}).clamp(0, 1);
}

}  // namespace diffeo::train
