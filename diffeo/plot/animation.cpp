#include "diffeo/plot/animation.h"

#include <fcntl.h>
#include <gif_lib.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/plot/palette.h"

namespace diffeo::plot {

namespace {

constexpr int kGreys = 32;

std::vector<Rgb> gif_palette() {
  std::vector<Rgb> palette;
  for (int i = 0; i < kGreys; ++i) {
    const auto v = static_cast<uint8_t>(i * 255 / (kGreys - 1));
    palette.push_back({v, v, v});
  }
  for (const Rgb& c : line_colours()) palette.push_back(c);
  const int shades = 256 - static_cast<int>(palette.size());
  for (int i = 0; i < shades; ++i) palette.push_back(viridis(i / (shades - 1.0)));
  return palette;
}

// The nearest palette index for every colour with 5 bits per channel: a table
// of 32768 entries built once, so quantising a pixel is one look-up.
struct Quantiser {
  std::vector<Rgb> palette = gif_palette();
  std::vector<uint8_t> nearest = std::vector<uint8_t>(1 << 15);

  Quantiser() {
    for (int key = 0; key < (1 << 15); ++key) {
      const int r = ((key >> 10) & 31) * 8 + 4, g = ((key >> 5) & 31) * 8 + 4,
                b = (key & 31) * 8 + 4;
      int best = 0, best_distance = 1 << 30;
      for (size_t i = 0; i < palette.size(); ++i) {
        const int dr = r - palette[i].r, dg = g - palette[i].g, db = b - palette[i].b;
        const int distance = dr * dr + dg * dg + db * db;
        if (distance < best_distance) best = static_cast<int>(i), best_distance = distance;
      }
      nearest[key] = static_cast<uint8_t>(best);
    }
  }

  std::vector<uint8_t> operator()(const Image& image) const {
    std::vector<uint8_t> indices(static_cast<size_t>(image.width) * image.height);
    for (size_t i = 0; i < indices.size(); ++i) {
      const uint8_t* p = &image.rgba[4 * i];
      indices[i] = nearest[((p[0] >> 3) << 10) | ((p[1] >> 3) << 5) | (p[2] >> 3)];
    }
    return indices;
  }
};

const Quantiser& quantiser() {
  static const Quantiser instance;
  return instance;
}

}  // namespace

void Animation::add_frame(const Figure& figure) { add_frame(figure.render()); }

void Animation::add_frame(const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgba.size() != static_cast<size_t>(image.width) * image.height * 4)
    throw Error("plot::Animation::add_frame: argument 'image' has " +
                std::to_string(image.rgba.size()) + " bytes for " + std::to_string(image.width) +
                " x " + std::to_string(image.height) + " RGBA pixels");
  if (!frames_.empty() && (image.width != width_ || image.height != height_))
    throw Error("plot::Animation::add_frame: the new frame is " + std::to_string(image.width) +
                " x " + std::to_string(image.height) + " pixels, but the animation's frames are " +
                std::to_string(width_) + " x " + std::to_string(height_));
  width_ = image.width;
  height_ = image.height;
  frames_.push_back(quantiser()(image));
}

void Animation::save_gif(const std::string& path, int delay_ms) const {
  const std::string where = "plot::Animation::save_gif";
  if (frames_.empty()) throw Error(where + ": the animation has no frames; call add_frame first");
  check_positive(delay_ms, "delay_ms", where);
  AtomicFile file(path, where);

  // Opened here, not by giflib, which would create it readable by its owner only.
  errno = 0;
  const int fd = ::open(file.temporary().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) file.fail("cannot create the file");
  int error = 0;
  GifFileType* gif = EGifOpenFileHandle(fd, &error);  // closes fd with the GIF
  if (!gif) {
    ::close(fd);
    file.fail(std::string("giflib: ") + GifErrorString(error));
  }
  // Every giflib call below returns GIF_ERROR and sets gif->Error on failure.
  const auto close_and_fail = [&](const char* what) {
    const int code = gif->Error;
    EGifCloseFile(gif, &error);
    file.fail(std::string(what) + ": giflib: " + GifErrorString(code));
  };

  const auto& palette = quantiser().palette;
  std::vector<GifColorType> colours;
  for (const Rgb& c : palette) colours.push_back({c.r, c.g, c.b});
  ColorMapObject* map = GifMakeMapObject(static_cast<int>(colours.size()), colours.data());
  EGifSetGifVersion(gif, true);
  const int status = EGifPutScreenDesc(gif, width_, height_, 8, 0, map);
  GifFreeMapObject(map);
  if (status == GIF_ERROR) close_and_fail("cannot write the header");

  // The NETSCAPE2.0 application extension with a loop count of 0: forever.
  const unsigned char loop[3] = {1, 0, 0};
  if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
      EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR ||
      EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR || EGifPutExtensionTrailer(gif) == GIF_ERROR)
    close_and_fail("cannot write the loop extension");

  GraphicsControlBlock control{DISPOSE_DO_NOT, false, std::max(1, (delay_ms + 5) / 10),
                               NO_TRANSPARENT_COLOR};
  std::array<GifByteType, 4> extension{};
  const auto extension_size = EGifGCBToExtension(&control, extension.data());
  for (const auto& frame : frames_) {
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(extension_size),
                         extension.data()) == GIF_ERROR ||
        EGifPutImageDesc(gif, 0, 0, width_, height_, false, nullptr) == GIF_ERROR)
      close_and_fail("cannot write a frame");
    // EGifPutLine takes a non-const pointer but only reads the pixels.
    auto* pixels = const_cast<GifPixelType*>(frame.data());
    for (int row = 0; row < height_; ++row)
      if (EGifPutLine(gif, pixels + static_cast<size_t>(row) * width_, width_) == GIF_ERROR)
        close_and_fail("cannot write a frame");
  }
  if (EGifCloseFile(gif, &error) == GIF_ERROR)
    file.fail(std::string("giflib: ") + GifErrorString(error));
  file.commit();
}

}  // namespace diffeo::plot
