#pragma once
// The NPY file format (numpy's .npy): its header, read and written, shared by
// the table reader (read_npy) and the image-array reader (read_image_array).

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace diffeo::data {

/// What an NPY file's header declares, and where its data start.
struct NpyHeader {
  std::string descr;           ///< the dtype as written, quotes included: "'<f8'", "'|u1'"
  std::vector<int64_t> shape;  ///< the extents, outermost first (C order)
  std::string shape_text;      ///< the shape as written, e.g. "(3, 2)", for messages
  size_t data_offset = 0;      ///< where the data start in the file's bytes
};

/// Parses the header of the NPY file whose bytes are `bytes` (format version
/// 1.0 or 2.0, C order).  `where` starts every message, e.g.
/// "read_npy: 'x.npy'".  Throws diffeo::Error for a missing \x93NUMPY magic,
/// another version, a truncated header, a header without 'descr',
/// 'fortran_order' or 'shape' or with an unreadable one, and a Fortran-order
/// array.  The dtype and the shape are the caller's to check.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& where);

/// The start of the array's data in `bytes`, after checking that the file
/// holds all of it: the product of the extents times `element_size` bytes,
/// computed without overflow.  `dtype_name` ("float64") names the dtype in
/// the message: "<where> is truncated: a (2, 2) float64 array needs 32 bytes
/// of data, found 24".  So a header may declare any shape without making the
/// reader allocate more than the file holds.
const char* npy_data(const std::string& bytes, const NpyHeader& header, size_t element_size,
                     const std::string& dtype_name, const std::string& where);

/// Writes `array` (any rank >= 1; uint8, float32 or float64, on any device) as
/// an NPY version 1.0 file in C order ('|u1', '<f4' or '<f8'), with the
/// header padded as numpy pads it, through a temporary file renamed into
/// place.  `where` starts error messages; diffeo::Error for another dtype, an
/// undefined or 0-dimensional tensor and a failed write.
void write_npy_array(const torch::Tensor& array, const std::string& path, const std::string& where);

}  // namespace diffeo::data
