#include "diffeo/io/archive.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <set>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/error.h"
#include "diffeo/core/read_file.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the archive reader and writer assume a little-endian host"
#endif

namespace diffeo::io {

namespace {

constexpr uint32_t kVersion = 1;
constexpr size_t kPreamble = 32;  // magic, version, checksum, two lengths
constexpr size_t kAlignment = 64;

const std::vector<std::pair<std::string, torch::Dtype>>& dtype_names() {
  static const std::vector<std::pair<std::string, torch::Dtype>> names = {
      {"float32", torch::kFloat32}, {"float64", torch::kFloat64}, {"int64", torch::kInt64},
      {"int32", torch::kInt32},     {"uint8", torch::kUInt8},     {"bool", torch::kBool}};
  return names;
}

std::string dtype_name(torch::Dtype dtype, const std::string& where, const std::string& name) {
  for (const auto& [text, type] : dtype_names())
    if (type == dtype) return text;
  throw Error(where + ": tensor '" + name + "' has dtype " + c10::toString(dtype) +
              ", which diffeo files do not store (float32, float64, int64, int32, uint8, bool)");
}

template <typename T>
void put(std::string& bytes, T value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T get(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

uint32_t crc(uint32_t running, const char* data, size_t size) {
  return static_cast<uint32_t>(
      crc32_z(running, reinterpret_cast<const unsigned char*>(data), size));
}

size_t padded(size_t size) { return (size + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

const torch::Tensor* Archive::find(const std::string& name) const {
  for (const auto& [key, tensor] : tensors)
    if (key == name) return &tensor;
  return nullptr;
}

void write_archive(const Archive& archive, const std::string& path, const std::string& where) {
  std::vector<torch::Tensor> values;
  json entries = json::array();
  std::set<std::string> seen;
  size_t payload = 0;
  for (const auto& [name, tensor] : archive.tensors) {
    if (!tensor.defined()) throw Error(where + ": tensor '" + name + "' is undefined");
    if (!seen.insert(name).second) throw Error(where + ": tensor name '" + name + "' is repeated");
    values.push_back(tensor.detach().cpu().contiguous());
    entries.push_back({{"name", name},
                       {"dtype", dtype_name(tensor.scalar_type(), where, name)},
                       {"shape", tensor.sizes().vec()},
                       {"offset", payload}});
    payload += padded(values.back().nbytes());
  }
  const std::string header = json{{"meta", archive.meta}, {"tensors", entries}}.dump();

  std::string lengths;
  put<uint64_t>(lengths, header.size());
  put<uint64_t>(lengths, payload);
  const std::string padding(kAlignment, '\0');
  uint32_t checksum = crc(0, lengths.data(), lengths.size());
  checksum = crc(checksum, header.data(), header.size());
  for (const auto& value : values) {
    if (value.nbytes() == 0) continue;  // zlib restarts the checksum on a null buffer
    checksum = crc(checksum, static_cast<const char*>(value.data_ptr()), value.nbytes());
    checksum = crc(checksum, padding.data(), padded(value.nbytes()) - value.nbytes());
  }

  std::string preamble(kArchiveMagic, 8);
  put<uint32_t>(preamble, kVersion);
  put<uint32_t>(preamble, checksum);
  write_atomically(path, where, [&](std::ostream& out) {
    out << preamble << lengths << header;
    for (const auto& value : values) {
      if (value.nbytes() == 0) continue;
      out.write(static_cast<const char*>(value.data_ptr()),
                static_cast<std::streamsize>(value.nbytes()));
      out.write(padding.data(),
                static_cast<std::streamsize>(padded(value.nbytes()) - value.nbytes()));
    }
  });
}

Archive read_archive(const std::string& path, const std::string& where) {
  const std::string file = where + ": '" + path + "'";
  const std::string bytes = read_file(path, where);

  if (bytes.empty()) throw Error(file + " is empty (0 bytes): not a diffeo file");
  if (bytes.compare(0, 8, std::string(kArchiveMagic, 8)) != 0) {
    const bool zip = bytes.compare(0, 4, "PK\x03\x04") == 0;
    throw Error(file + " is not a diffeo model or checkpoint file (" +
                (zip ? "it is a zip/LibTorch archive; diffeo 0.1 wrote models that way: retrain "
                       "and save with this version"
                     : "it lacks the diffeo file signature") +
                ")");
  }
  if (bytes.size() < kPreamble)
    throw Error(file + " is truncated: " + std::to_string(bytes.size()) +
                " bytes, shorter than the 32-byte preamble of a diffeo file");
  const auto version = get<uint32_t>(bytes, 8);
  if (version != kVersion)
    throw Error(file + " has container version " + std::to_string(version) + "; this diffeo " +
                "reads version " + std::to_string(kVersion) + " (written by a newer diffeo?)");
  const auto header_length = get<uint64_t>(bytes, 16);
  const auto payload_length = get<uint64_t>(bytes, 24);
  const uint64_t available = bytes.size() - kPreamble;
  if (header_length > available || payload_length > available - header_length)
    throw Error(file + " is truncated: it announces " + std::to_string(header_length) +
                " header and " + std::to_string(payload_length) +
                " data bytes after its preamble, the file has " + std::to_string(available));
  if (header_length + payload_length != available)
    throw Error(file + " is corrupt: " + std::to_string(available - header_length - payload_length) +
                " unexpected bytes after its data");
  const uint32_t stored = get<uint32_t>(bytes, 12);
  const uint32_t computed = crc(0, bytes.data() + kArchiveChecksumStart,
                                bytes.size() - kArchiveChecksumStart);
  if (stored != computed)
    throw Error(file + " is corrupt: its checksum does not match its content (damaged on disk "
                "or in transfer); use another copy");

  const json header = json::parse(bytes.begin() + kPreamble,
                                  bytes.begin() + kPreamble + static_cast<long>(header_length),
                                  nullptr, /*allow_exceptions=*/false);
  const std::string bad_header = file + " is corrupt: its header ";
  if (header.is_discarded()) throw Error(bad_header + "is not valid JSON");
  if (!header.is_object() || !header.contains("meta") || !header["meta"].is_object() ||
      !header.contains("tensors") || !header["tensors"].is_array())
    throw Error(bad_header + "lacks the 'meta' object or the 'tensors' list");

  Archive archive;
  archive.meta = header["meta"];
  const size_t payload_start = kPreamble + header_length;
  std::set<std::string> seen;
  for (const auto& entry : header["tensors"]) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("offset") ||
        !entry["offset"].is_number_unsigned())
      throw Error(bad_header + "has a tensor entry without name, dtype, shape and offset");
    const auto name = entry["name"].get<std::string>();
    const std::string tensor = file + " is corrupt: tensor '" + name + "' ";
    if (!seen.insert(name).second) throw Error(tensor + "is listed twice");
    torch::Dtype dtype = torch::kFloat32;
    bool known = false;
    for (const auto& [text, type] : dtype_names())
      if (entry["dtype"] == text) dtype = type, known = true;
    if (!known) throw Error(tensor + "has an unknown dtype " + entry["dtype"].dump());
    const size_t element = c10::elementSize(dtype);
    // The element count, checked against the payload before it can overflow.
    std::vector<int64_t> shape;
    uint64_t count = 1;
    if (entry["shape"].size() > 16) throw Error(tensor + "has more than 16 dimensions");
    for (const auto& extent : entry["shape"]) {
      if (!extent.is_number_unsigned() ||
          extent.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw Error(tensor + "has a shape entry that is not a size: " + extent.dump());
      shape.push_back(extent.get<int64_t>());
    }
    for (auto extent : shape) {
      if (extent == 0) count = 0;
      if (count != 0 && static_cast<uint64_t>(extent) > payload_length / element / count)
        throw Error(tensor + "needs more bytes than the file holds");
      count *= static_cast<uint64_t>(extent);
    }
    const uint64_t offset = entry["offset"].get<uint64_t>(), size = count * element;
    if (offset > payload_length || size > payload_length - offset)
      throw Error(tensor + "lies outside the file's data");
    auto value = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    if (size > 0) std::memcpy(value.data_ptr(), bytes.data() + payload_start + offset, size);
    if (dtype == torch::kBool && size > 0 &&
        (value.view(torch::kUInt8) > 1).any().item<bool>())
      throw Error(tensor + "holds booleans other than 0 and 1");
    archive.tensors.emplace_back(name, std::move(value));
  }
  return archive;
}

}  // namespace diffeo::io
