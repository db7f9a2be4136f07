#include "diffeo/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/table.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the IDX reader and writer assume a little-endian host"
#endif

namespace diffeo::data {
namespace {

// gzread/gzwrite take an unsigned length: move data in chunks well below it.
constexpr size_t kChunk = size_t{1} << 24;

struct IdxType {
  uint8_t code;
  torch::ScalarType dtype;
  const char* name;
};

constexpr IdxType kTypes[] = {
    {0x08, torch::kByte, "uint8"},    {0x09, torch::kChar, "int8"},
    {0x0B, torch::kShort, "int16"},   {0x0C, torch::kInt, "int32"},
    {0x0D, torch::kFloat, "float32"}, {0x0E, torch::kDouble, "float64"},
};

std::string hex(unsigned value) {
  static const char digits[] = "0123456789abcdef";
  return std::string("0x") + digits[(value >> 4) & 0xf] + digits[value & 0xf];
}

std::string type_list() {
  std::string list;
  for (const auto& t : kTypes) {
    if (!list.empty()) list += &t == std::end(kTypes) - 1 ? " or " : ", ";
    list += hex(t.code) + " (" + t.name + ")";
  }
  return list;
}

// Closes the file on every path out, including exceptions.
class GzFile {
 public:
  GzFile(const std::string& path, const char* mode) : file_(gzopen(path.c_str(), mode)) {}
  ~GzFile() {
    if (file_) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  gzFile get() const { return file_; }
  // gzclose flushes a compressed writer's last block, so its result matters.
  bool close() {
    const int result = gzclose(file_);
    file_ = nullptr;
    return result == Z_OK;
  }

 private:
  gzFile file_;
};

// zlib's message without the "path: " prefix it adds.
std::string zlib_message(gzFile file, const std::string& path, int* error) {
  std::string message = gzerror(file, error);
  if (message.compare(0, path.size() + 2, path + ": ") == 0) message.erase(0, path.size() + 2);
  return message;
}

// Reads up to `size` bytes into `data`; fewer only where the data ends.  A
// read error or corrupt/truncated gzip data throws.
size_t read_up_to(gzFile file, uint8_t* data, size_t size, const std::string& path,
                  const std::string& where) {
  size_t done = 0;
  while (done < size) {
    const int got = gzread(file, data + done, static_cast<unsigned>(std::min(size - done, kChunk)));
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  int error = Z_OK;
  const std::string message = zlib_message(file, path, &error);
  if (error == Z_BUF_ERROR) throw Error(where + " is a truncated gzip file (" + message + ")");
  if (error != Z_OK) throw Error(where + " cannot be read: " + message);
  return done;
}

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// Copies `count` elements of `width` bytes, reversing each one's byte order
// (big-endian file <-> little-endian host; a plain copy for bytes).
void copy_swapped(const uint8_t* source, uint8_t* target, size_t count, size_t width) {
  // An empty tensor's (and vector's) data pointer may be null, which memcpy
  // must not get even for 0 bytes (UBSan, fuzzing: a (0, 5) IDX file).
  if (count == 0) return;
  if (width == 1) {
    std::memcpy(target, source, count);
    return;
  }
  for (size_t i = 0; i < count; ++i, source += width, target += width)
    for (size_t b = 0; b < width; ++b) target[b] = source[width - 1 - b];
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  const std::string where = "read_idx: '" + path + "'";
  GzFile file(path, "rb");
  if (!file.get()) throw Error(where + " cannot be opened (missing or unreadable)");
  gzbuffer(file.get(), 1 << 17);

  uint8_t magic[4];
  const size_t magic_read = read_up_to(file.get(), magic, 4, path, where);
  if (magic_read < 4)
    throw Error(where + " is truncated: an IDX header starts with 4 bytes, got " +
                std::to_string(magic_read));
  if (magic[0] != 0 || magic[1] != 0)
    throw Error(where + " is not an IDX file: its first two bytes must be 0x00 0x00, got " +
                hex(magic[0]) + " " + hex(magic[1]));
  const IdxType* type = std::find_if(std::begin(kTypes), std::end(kTypes),
                                     [&](const IdxType& t) { return t.code == magic[2]; });
  if (type == std::end(kTypes))
    throw Error(where + " has the unknown type code " + hex(magic[2]) + "; expected " +
                type_list());
  const size_t rank = magic[3];
  if (rank < 1 || rank > 8)
    throw Error(where + " declares " + std::to_string(rank) + " dimensions; expected 1 to 8");

  uint8_t dims[4 * 8];
  const size_t dims_read = read_up_to(file.get(), dims, 4 * rank, path, where);
  if (dims_read < 4 * rank)
    throw Error(where + " is truncated: its header declares " + std::to_string(rank) +
                " dimensions and needs " + std::to_string(4 + 4 * rank) + " bytes, got " +
                std::to_string(4 + dims_read));
  std::vector<int64_t> shape(rank);
  for (size_t d = 0; d < rank; ++d) shape[d] = big_endian_u32(dims + 4 * d);
  // Each extent is below 2^32 and the running product at most 2^31: no overflow.
  // The nonzero extents are bounded too: LibTorch multiplies every extent of
  // an empty shape like (0, 2^32 - 1, 2^32 - 1, 2^32 - 1) and fails on the
  // overflow (fuzzing: c10::Error, not diffeo::Error).
  uint64_t count = 1, nonzero = 1;
  for (const auto extent : shape) {
    count = std::min<uint64_t>(count * extent, kMaxIdxElements + 1);
    if (extent > 0) nonzero = std::min<uint64_t>(nonzero * extent, kMaxIdxElements + 1);
  }
  if (nonzero > static_cast<uint64_t>(kMaxIdxElements))
    throw Error(where + " declares shape " + shape_string(shape) + ", more than the " +
                std::to_string(kMaxIdxElements) + " elements read_idx accepts" +
                (count == 0 ? " (counting its nonzero dimensions)" : ""));

  const size_t width = c10::elementSize(type->dtype);
  const size_t needed = count * width;
  // Grown as data arrives, never to the declared size up front: a header that
  // lies about its size costs only the bytes the file really holds.  Doubling
  // from 64 KiB: a first step of 16 MiB made each small file with a large
  // declared size zero-fill 16 MiB (fuzzing: 50 inputs/s).
  std::vector<uint8_t> data;
  while (data.size() < needed) {
    const size_t start = data.size();
    data.resize(start + std::min(needed - start, std::max(start, size_t{1} << 16)));
    const size_t got =
        read_up_to(file.get(), data.data() + start, data.size() - start, path, where);
    data.resize(start + got);
    if (got == 0) break;
  }
  const std::string layout = "shape " + shape_string(shape) + " of " + type->name;
  if (data.size() < needed)
    throw Error(where + " is truncated: " + layout + " expected " + std::to_string(needed) +
                " bytes of data, got " + std::to_string(data.size()));

  uint8_t scratch[1 << 16];
  size_t trailing = 0;
  while (size_t got = read_up_to(file.get(), scratch, sizeof(scratch), path, where)) {
    trailing += got;
  }
  if (trailing > 0)
    throw Error(where + " has " + std::to_string(trailing) + " bytes after its data (" + layout +
                " is " + std::to_string(needed) + " bytes); expected the file to end there");

  auto tensor = torch::empty(shape, type->dtype);
  copy_swapped(data.data(), static_cast<uint8_t*>(tensor.data_ptr()), count, width);
  return tensor;
}

void write_idx(const torch::Tensor& tensor, const std::string& path) {
  const std::string where = "write_idx";
  check_defined(tensor, "tensor", where);
  const IdxType* type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const IdxType& t) {
    return t.dtype == tensor.scalar_type();
  });
  if (type == std::end(kTypes))
    throw Error(where + ": argument 'tensor' has dtype " + c10::toString(tensor.scalar_type()) +
                "; IDX stores uint8, int8, int16, int32, float32 or float64");
  if (tensor.dim() < 1 || tensor.dim() > 8)
    throw Error(where + ": argument 'tensor' has shape " + shape_string(tensor.sizes()) +
                "; IDX stores 1 to 8 dimensions");
  uint8_t header[4 + 4 * 8] = {0, 0, type->code, static_cast<uint8_t>(tensor.dim())};
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    const auto extent = static_cast<uint64_t>(tensor.size(d));
    if (extent > UINT32_MAX)
      throw Error(where + ": argument 'tensor' has shape " + shape_string(tensor.sizes()) +
                  "; IDX dimensions must be below 2^32");
    for (int b = 0; b < 4; ++b)
      header[4 + 4 * d + b] = static_cast<uint8_t>(extent >> (24 - 8 * b));
  }
  const auto values = tensor.detach().cpu().contiguous();
  const size_t width = values.element_size(), count = values.numel();
  std::vector<uint8_t> bytes(4 + 4 * values.dim() + count * width);
  std::memcpy(bytes.data(), header, 4 + 4 * values.dim());
  copy_swapped(static_cast<const uint8_t*>(values.data_ptr()), bytes.data() + 4 + 4 * values.dim(),
               count, width);

  AtomicFile atomic(path, where);
  // "T": zlib writes a plain file through the same interface.
  GzFile file(atomic.temporary(), has_extension(path, ".gz") ? "wb" : "wbT");
  if (!file.get()) atomic.fail("cannot create a temporary file beside it");
  for (size_t done = 0; done < bytes.size();) {
    const auto size = static_cast<unsigned>(std::min(bytes.size() - done, kChunk));
    if (gzwrite(file.get(), bytes.data() + done, size) != static_cast<int>(size))
      atomic.fail("write failed");
    done += size;
  }
  if (!file.close()) atomic.fail("write failed");
  atomic.commit();
}

}  // namespace diffeo::data
