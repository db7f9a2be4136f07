#include "diffeo/plot/image_grid.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/png.h"

namespace diffeo::plot {

Image image_grid(const torch::Tensor& images, const ImageGridOptions& options) {
  const std::string where = "plot::image_grid";
  if (!images.defined() || images.dim() != 4 || images.size(0) == 0 ||
      (images.size(1) != 1 && images.size(1) != 3))
    throw Error(where + ": argument 'images' must be [N >= 1, C = 1 or 3, H, W], got " +
                (images.defined() ? shape_string(images.sizes()) : std::string("undefined")));
  if (options.columns() < 0 || options.zoom() < 1 || options.padding() < 0)
    throw Error(where + ": options need columns >= 0, zoom >= 1 and padding >= 0");
  const int64_t n = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  const int64_t columns = options.columns() > 0
                              ? options.columns()
                              : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + columns - 1) / columns;
  const int64_t zoom = options.zoom(), pad = options.padding();
  const int64_t width = columns * (W * zoom + pad) + pad, height = rows * (H * zoom + pad) + pad;
  if (width > 32768 || height > 32768)
    throw Error(where + ": the grid would be " + std::to_string(width) + " x " +
                std::to_string(height) + " pixels; use fewer images, columns or zoom");

  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.rgba.assign(static_cast<size_t>(width * height * 4), 48);  // dark grey
  for (size_t i = 3; i < image.rgba.size(); i += 4) image.rgba[i] = 255;

  const auto pixels = images.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* data = pixels.data_ptr<float>();
  auto level = [](float v) {
    return static_cast<uint8_t>(std::lround(255 * std::clamp(v, 0.f, 1.f)));
  };
  for (int64_t k = 0; k < n; ++k) {
    const int64_t top = pad + (k / columns) * (H * zoom + pad);
    const int64_t left = pad + (k % columns) * (W * zoom + pad);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        uint8_t rgb[3];
        bool broken = false;
        for (int64_t c = 0; c < 3; ++c) {
          const float v = data[((k * C + (C == 3 ? c : 0)) * H + h) * W + w];
          broken = broken || std::isnan(v);
          rgb[c] = level(v);
        }
        if (broken) rgb[0] = 255, rgb[1] = 0, rgb[2] = 0;
        for (int64_t dy = 0; dy < zoom; ++dy)
          for (int64_t dx = 0; dx < zoom; ++dx) {
            uint8_t* p = &image.rgba[4 * ((top + h * zoom + dy) * width + left + w * zoom + dx)];
            p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
          }
      }
  }
  return image;
}

void save_png(const Image& image, const std::string& path) {
  const std::string where = "plot::save_png";
  if (image.width <= 0 || image.height <= 0 ||
      image.rgba.size() != static_cast<size_t>(image.width) * image.height * 4)
    throw Error(where + ": argument 'image' has " + std::to_string(image.rgba.size()) +
                " bytes for " + std::to_string(image.width) + " x " + std::to_string(image.height) +
                " RGBA pixels");
  // The interleaved RGBA rows seen as [4, H, W] (no copy; write_png interleaves again).
  auto rgba = const_cast<uint8_t*>(image.rgba.data());
  data::write_png(torch::from_blob(rgba, {image.height, image.width, 4}, torch::kUInt8)
                      .permute({2, 0, 1}),
                  path);
}

}  // namespace diffeo::plot
