#pragma once
// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace diffeo::data {

/// The most elements read_idx accepts (2^31): larger headers are refused
/// before anything is allocated.
inline constexpr int64_t kMaxIdxElements = int64_t{1} << 31;

/// Reads an IDX file, gzip-compressed or plain (zlib tells them apart), into a
/// CPU tensor of the stored type and dimensions: type code 0x08 -> uint8,
/// 0x09 -> int8, 0x0B -> int16, 0x0C -> int32, 0x0D -> float32, 0x0E ->
/// float64, big-endian on disk.  The layout is two zero bytes, the type code,
/// the number of dimensions (1 to 8), one big-endian uint32 per dimension,
/// then the values in C order and nothing after them.  Throws diffeo::Error
/// naming the file for a missing or unreadable file, corrupt gzip data, a
/// truncated header, a bad magic, an unknown type code, a dimension count
/// outside 1..8, more than kMaxIdxElements elements, truncated data (bytes
/// expected and found) and bytes after the data.  The header's sizes are
/// checked before anything is allocated, and memory grows only with the data
/// actually present, so no input crashes it or allocates a declared size.
torch::Tensor read_idx(const std::string& path);

/// Writes a uint8, int8, int16, int32, float32 or float64 tensor of 1 to 8
/// dimensions as an IDX file that read_idx reads back exactly; gzip-compressed
/// when `path` ends in ".gz".  Written to a temporary file beside `path` and
/// renamed into place, so a failed write never leaves a partial file.  Throws
/// diffeo::Error for another dtype or rank, a dimension of 2^32 or more, and a
/// failed write.
void write_idx(const torch::Tensor& tensor, const std::string& path);

}  // namespace diffeo::data
