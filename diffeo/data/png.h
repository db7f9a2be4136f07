#pragma once
// PNG image files, read and written with libpng: one image as a uint8 [C, H, W] tensor.

#include <torch/torch.h>

#include <string>

namespace diffeo::data {

/// Reads the PNG file at `path` into a uint8 CPU tensor [C, H, W] (row 0 at
/// the top): C = 1 for a grey image, C = 3 for a colour one.  Every PNG kind
/// is read, converted so:
///  - palette images become RGB (C = 3), grey images of 1, 2 or 4 bits are
///    scaled to 0..255;
///  - 16-bit images are scaled to 8 bits, v8 = round(v16 * 255 / 65535)
///    (the image flows model 8-bit data);
///  - an alpha channel (grey + alpha, RGBA, or a tRNS transparency chunk) is
///    dropped when every pixel is opaque (alpha 255, as in files saved by
///    plot::save_png or by editors that always write RGBA); an image with any
///    transparent pixel is refused, since the colour behind it is unknown;
///  - no gamma or colour-profile correction: the stored values are returned.
/// Throws diffeo::Error naming the file for a missing or unreadable file, one
/// without the PNG signature, a truncated or corrupt file (libpng's reason),
/// a header declaring more pixels than the file can hold, and transparent
/// pixels (their count and the first one's row and column).
torch::Tensor read_png(const std::string& path);

/// Writes `image`, uint8 [C, H, W] on any device (C = 1 grey, 2 grey + alpha,
/// 3 RGB, 4 RGBA; H, W >= 1), as an 8-bit PNG file (zlib level 6, libpng's
/// row filters), under a temporary name renamed into place, so a failed write
/// leaves no partial file and the previous file survives.  read_png reads it
/// back exactly (for C = 2 or 4, when every alpha is 255).  Throws
/// diffeo::Error for another dtype or shape and a failed write (naming the
/// path and the system's reason).
void write_png(const torch::Tensor& image, const std::string& path);

}  // namespace diffeo::data
