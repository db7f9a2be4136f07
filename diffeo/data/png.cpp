#include "diffeo/data/png.h"

#include <png.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/read_file.h"

namespace diffeo::data {
namespace {

// libpng reports errors by calling an error function that must not return; we
// longjmp back to the setjmp of the function that made the call (libpng's
// documented way).  The functions that call setjmp (decode_header,
// decode_rows, encode) hold no C++ object with a destructor, so the jump skips
// none; everything that owns memory lives in their callers.
struct PngState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  bool reading = true;
  char message[256] = "";
  // Reading: the file's bytes.
  const std::string* bytes = nullptr;
  size_t position = 0;
  bool truncated = false;
  // Writing: the encoded file, and whether appending to it failed.
  std::string* out = nullptr;
  bool out_of_memory = false;

  explicit PngState(bool read) : reading(read) {}
  ~PngState() {
    if (reading) {
      png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    } else {
      png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
    }
  }
  PngState(const PngState&) = delete;
  PngState& operator=(const PngState&) = delete;
};

void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // e.g. a bad CRC of an ancillary chunk

void read_bytes(png_structp png, png_bytep into, png_size_t count) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (state->bytes->size() - state->position < count) {
    state->truncated = true;
    png_error(png, "the file ends early");
  }
  std::memcpy(into, state->bytes->data() + state->position, count);
  state->position += count;
}

void write_bytes(png_structp png, png_bytep data, png_size_t count) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  try {
    state->out->append(reinterpret_cast<const char*>(data), count);
  } catch (const std::bad_alloc&) {
    state->out_of_memory = true;
  }
  if (state->out_of_memory) png_error(png, "out of memory");
}

void flush_bytes(png_structp) {}

// The image's layout after read_png's conversions.
struct Layout {
  png_uint_32 width = 0, height = 0;
  int file_bit_depth = 0, file_channels = 0;  // as stored
  int channels = 0;                           // after the conversions, 8 bits each
  size_t row_bytes = 0;
};

// Reads the header and sets up the conversions; false on a libpng error.
bool decode_header(PngState& state, Layout& layout) {
  if (setjmp(png_jmpbuf(state.png))) return false;
  png_read_info(state.png, state.info);
  layout.width = png_get_image_width(state.png, state.info);
  layout.height = png_get_image_height(state.png, state.info);
  layout.file_bit_depth = png_get_bit_depth(state.png, state.info);
  layout.file_channels = png_get_channels(state.png, state.info);
  png_set_expand(state.png);    // palette -> RGB, 1/2/4-bit grey -> 8, tRNS -> alpha
  png_set_scale_16(state.png);  // 16 -> 8 bits, rounded
  png_set_interlace_handling(state.png);
  png_read_update_info(state.png, state.info);
  layout.channels = png_get_channels(state.png, state.info);
  layout.row_bytes = png_get_rowbytes(state.png, state.info);
  return true;
}

bool decode_rows(PngState& state, png_bytepp rows) {
  if (setjmp(png_jmpbuf(state.png))) return false;
  png_read_image(state.png, rows);
  png_read_end(state.png, nullptr);
  return true;
}

bool encode(PngState& state, png_uint_32 width, png_uint_32 height, int color_type,
            png_bytepp rows) {
  if (setjmp(png_jmpbuf(state.png))) return false;
  png_set_IHDR(state.png, state.info, width, height, 8, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(state.png, 6);
  png_write_info(state.png, state.info);
  png_write_image(state.png, rows);
  png_write_end(state.png, nullptr);
  return true;
}

// Drops an all-opaque alpha channel (the last of `image` [C, H, W]) or
// refuses the image.
torch::Tensor drop_alpha(const torch::Tensor& image, const std::string& where) {
  const int64_t channels = image.size(0), width = image.size(2);
  const auto transparent = image[channels - 1].ne(255);
  const int64_t count = transparent.sum().item<int64_t>();
  if (count > 0) {
    const int64_t first = transparent.flatten().nonzero()[0][0].item<int64_t>();
    throw Error(where + " has " + std::to_string(count) +
                " transparent pixels (alpha below 255; the first at row " +
                std::to_string(first / width + 1) + ", column " +
                std::to_string(first % width + 1) +
                "); only opaque images are read: flatten it onto a background first");
  }
  return image.narrow(0, 0, channels - 1).contiguous();
}

}  // namespace

torch::Tensor read_png(const std::string& path) {
  const std::string where = "read_png: " + quoted(path);
  const std::string bytes = read_file(path, "read_png");
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0)
    throw Error(where + " is not a PNG file (it lacks the PNG signature)");
  PngState state(/*read=*/true);
  state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (state.png != nullptr) state.info = png_create_info_struct(state.png);
  if (state.info == nullptr) throw Error(where + ": libpng could not start (out of memory)");
  state.bytes = &bytes;
  png_set_read_fn(state.png, &state, read_bytes);

  const auto fail = [&] {
    if (state.truncated) throw Error(where + " is truncated (" + state.message + ")");
    throw Error(where + " is corrupt: " + state.message);
  };
  Layout layout;
  if (!decode_header(state, layout)) fail();
  // Deflate shrinks data at most 1032-fold, so a header that declares more
  // stored pixel bytes than that many times the file's size lies; refused
  // before anything is allocated (a 100-byte file may declare 10^6 x 10^6).
  const double stored = static_cast<double>(layout.height) *
                        (1 + std::ceil(static_cast<double>(layout.width) * layout.file_channels *
                                       layout.file_bit_depth / 8));
  if (stored > 1032.0 * static_cast<double>(bytes.size()) + 65536)
    throw Error(where + " is corrupt: its header declares " + std::to_string(layout.width) + " x " +
                std::to_string(layout.height) + " pixels, more than its " +
                std::to_string(bytes.size()) + " bytes can hold");

  const int64_t channels = layout.channels;
  auto pixels = torch::empty(
      {static_cast<int64_t>(layout.height), static_cast<int64_t>(layout.width), channels},
      torch::kUInt8);
  TORCH_INTERNAL_ASSERT(layout.row_bytes == static_cast<size_t>(layout.width * channels));
  std::vector<png_bytep> rows(layout.height);
  for (png_uint_32 y = 0; y < layout.height; ++y)
    rows[y] = pixels.data_ptr<uint8_t>() + y * layout.row_bytes;
  if (!decode_rows(state, rows.data())) fail();

  auto image = pixels.permute({2, 0, 1}).contiguous();  // [C, H, W]
  if (channels == 2 || channels == 4) image = drop_alpha(image, where);
  return image;
}

void write_png(const torch::Tensor& image, const std::string& path) {
  const std::string where = "write_png";
  if (!image.defined() || image.scalar_type() != torch::kUInt8 || image.dim() != 3 ||
      image.size(0) < 1 || image.size(0) > 4 || image.size(1) < 1 || image.size(2) < 1)
    throw Error(where + ": argument 'image' must be uint8 [C, H, W] with C = 1 (grey), 2 " +
                "(grey + alpha), 3 (RGB) or 4 (RGBA) and H, W >= 1, got " +
                (image.defined() ? std::string(c10::toString(image.scalar_type())) + " " +
                                       shape_string(image.sizes())
                                 : std::string("undefined")) +
                " for " + quoted(path));
  static const int kColorTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                    PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  const int64_t channels = image.size(0), height = image.size(1), width = image.size(2);
  const auto interleaved = image.detach().cpu().permute({1, 2, 0}).contiguous();  // [H, W, C]
  std::vector<png_bytep> rows(height);
  for (int64_t y = 0; y < height; ++y)
    rows[y] = interleaved.data_ptr<uint8_t>() + y * width * channels;

  std::string encoded;
  PngState state(/*read=*/false);
  state.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (state.png != nullptr) state.info = png_create_info_struct(state.png);
  if (state.info == nullptr) throw Error(where + ": libpng could not start (out of memory)");
  state.out = &encoded;
  png_set_write_fn(state.png, &state, write_bytes, flush_bytes);
  if (!encode(state, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
              kColorTypes[channels - 1], rows.data()))
    throw Error(where + ": libpng could not encode " + quoted(path) + ": " + state.message);
  write_atomically(path, where,
                   [&](std::ostream& out) { out.write(encoded.data(), encoded.size()); });
}

}  // namespace diffeo::data
