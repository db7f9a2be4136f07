#pragma once
// diffeo's file container: JSON metadata and named raw tensors, checksummed.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "diffeo/core/spec.h"

namespace diffeo::io {

/// The content of a diffeo file (models, training checkpoints): free-form
/// JSON metadata and an ordered list of named CPU tensors.  On disk, all
/// integers little-endian:
///
///     8 bytes  magic "\x89DIFFEO\n"
///     4 bytes  container version (1)
///     4 bytes  CRC-32 of every byte after this field
///     8 bytes  header length H        8 bytes  payload length P
///     H bytes  header: {"meta": {...}, "tensors": [{"name", "dtype", "shape", "offset"}]}
///     P bytes  payload: each tensor's values in C order at its offset
///
/// The reader is written for hostile input: it reads at most the file's own
/// bytes, checks the lengths against the file size (truncated / trailing
/// bytes), the checksum (corrupt), the JSON and every tensor entry (dtype,
/// shape, bounds) before it copies anything, so a damaged file gives a
/// diffeo::Error and never a crash or a wrong tensor.  dtypes: float32,
/// float64, int64, int32, uint8 and bool.
struct Archive {
  json meta = json::object();
  std::vector<std::pair<std::string, torch::Tensor>> tensors;

  /// The tensor `name`, or nullptr.
  const torch::Tensor* find(const std::string& name) const;
};

/// Writes `archive` to `path` atomically (temporary file, fsync, rename): an
/// interrupted or failed write leaves any previous file at `path` intact.
/// `where` prefixes error messages (e.g. "io::save").
void write_archive(const Archive& archive, const std::string& path, const std::string& where);

/// Reads a file written by write_archive; diffeo::Error prefixed with `where`
/// and naming `path` for a missing, empty, foreign, truncated or corrupt file.
Archive read_archive(const std::string& path, const std::string& where);

/// The container's magic bytes and the offset where the checksummed part
/// starts (for tools and fuzzing harnesses that rebuild the checksum).
inline constexpr char kArchiveMagic[] = "\x89" "DIFFEO\n";
inline constexpr size_t kArchiveChecksumStart = 16;

}  // namespace diffeo::io
