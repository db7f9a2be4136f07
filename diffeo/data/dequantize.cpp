#include "diffeo/data/dequantize.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::data {
namespace {

void check_integer(const torch::Tensor& t, const std::string& arg, const std::string& where) {
  check_defined(t, arg, where);
  if (!c10::isIntegralType(t.scalar_type(), /*includeBool=*/false))
    throw Error(where + ": argument '" + arg + "' must be an integer tensor (e.g. uint8), got " +
                c10::toString(t.scalar_type()));
}

void check_levels(int64_t levels, const std::string& where) {
  if (levels < 2)
    throw Error(where + ": argument 'levels' must be at least 2, got " + std::to_string(levels));
}

}  // namespace

torch::Tensor dequantize(const torch::Tensor& pixels, at::Generator generator, int64_t levels) {
  const std::string where = "dequantize";
  check_integer(pixels, "pixels", where);
  check_levels(levels, where);
  if (pixels.numel() > 0) {
    const int64_t low = pixels.min().item<int64_t>(), high = pixels.max().item<int64_t>();
    if (low < 0 || high >= levels) {
      // In int64: `levels` may not fit the pixels' dtype (256 wraps to 0 in uint8).
      const auto wide = pixels.to(torch::kLong);
      const int64_t bad = (wide < 0).logical_or(wide >= levels).sum().item<int64_t>();
      throw Error(where + ": argument 'pixels' must hold integers in 0.." +
                  std::to_string(levels - 1) + " (levels = " + std::to_string(levels) + "), but " +
                  std::to_string(bad) + " of its " + std::to_string(pixels.numel()) +
                  " values are outside (min " + std::to_string(low) + ", max " +
                  std::to_string(high) + ")");
    }
  }
  const auto options = pixels.options().dtype(c10::get_default_dtype());
  const auto x = pixels.to(options.dtype());
  const auto u = torch::rand(pixels.sizes(), generator, options);
  // x + u can round up to x + 1 (float32 near 255 has steps of 2^-16): keep
  // every value strictly below its cell's upper edge.
  const auto upper = (x + 1) / levels;
  return torch::minimum((x + u) / levels, torch::nextafter(upper, torch::zeros_like(upper)));
}

double bits_per_dim(double mean_log_prob_unit, int64_t dim, int64_t levels) {
  const std::string where = "bits_per_dim";
  check_positive(dim, "dim", where);
  check_levels(levels, where);
  if (std::isnan(mean_log_prob_unit))
    throw Error(where + ": argument 'mean_log_prob_unit' is NaN; expected a mean log density");
  const double d = static_cast<double>(dim);
  return (-mean_log_prob_unit + d * std::log(static_cast<double>(levels))) / (d * std::log(2.0));
}

torch::Tensor downsample_images(const torch::Tensor& images, int64_t factor) {
  const std::string where = "downsample_images";
  check_defined(images, "images", where);
  if (images.scalar_type() == torch::kBool)
    throw Error(where +
                ": argument 'images' must be an integer or floating-point tensor, got bool");
  if (images.dim() < 2)
    throw Error(where +
                ": argument 'images' must have at least 2 dimensions [..., H, W], got shape " +
                shape_string(images.sizes()));
  const int64_t height = images.size(-2), width = images.size(-1);
  if (factor < 1 || height % factor != 0 || width % factor != 0)
    throw Error(where + ": argument 'factor' must be a positive divisor of the height " +
                std::to_string(height) + " and the width " + std::to_string(width) + ", got " +
                std::to_string(factor));
  auto shape = images.sizes().vec();
  shape.back() = width / factor;
  shape[shape.size() - 2] = height / factor;
  const auto blocks = images.reshape({-1, height / factor, factor, width / factor, factor});
  if (images.is_floating_point()) return blocks.mean({2, 4}).reshape(shape);
  // Exact integer arithmetic: floor((sum + n/2) / n) = mean rounded, halves up.
  const int64_t n = factor * factor;
  const auto sum = blocks.to(torch::kLong).sum({2, 4});
  return torch::div(2 * sum + n, 2 * n, "floor").to(images.scalar_type()).reshape(shape);
}

}  // namespace diffeo::data
