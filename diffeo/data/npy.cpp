#include "diffeo/data/npy.h"

#include <charconv>
#include <string_view>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/error.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the NPY reader and writer assume a little-endian host"
#endif

namespace diffeo::data {
namespace {

constexpr std::string_view kBlanks = " \t\r\n";

// The value of `key` in the NPY header, a Python dict literal such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }.
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& where) {
  const size_t at = header.find("'" + key + "'");
  const size_t colon = at == std::string::npos ? at : header.find(':', at);
  if (colon == std::string::npos) throw Error(where + " has no '" + key + "' in its header");
  std::string_view rest = std::string_view(header).substr(colon + 1);
  rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(kBlanks)));
  size_t end;
  if (!rest.empty() && rest.front() == '\'') {
    end = rest.find('\'', 1) + 1;
  } else if (!rest.empty() && rest.front() == '(') {
    end = rest.find(')') + 1;
  } else {
    end = rest.find_first_of(",}");
    if (end != std::string_view::npos && end > 0)
      end = rest.find_last_not_of(kBlanks, end - 1) + 1;  // "False }" -> "False"
  }
  if (end == 0 || end == std::string_view::npos)
    throw Error(where + " has an unreadable '" + key + "' in its header");
  return std::string(rest.substr(0, end));
}

// "(3, 2)", "(5,)" or "()" -> the extents.
std::vector<int64_t> parse_shape(const std::string& text, const std::string& where) {
  std::vector<int64_t> shape;
  std::string_view inside = std::string_view(text).substr(1, text.size() - 2);
  while (!inside.empty()) {
    const size_t comma = std::min(inside.find(','), inside.size());
    std::string_view part = inside.substr(0, comma);
    inside.remove_prefix(std::min(inside.size(), comma + 1));
    part.remove_prefix(std::min(part.size(), part.find_first_not_of(kBlanks)));
    part = part.substr(0, part.find_last_not_of(kBlanks) + 1);
    if (part.empty()) continue;  // the trailing comma of "(5,)"
    int64_t extent;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), extent);
    if (error != std::errc() || end != part.data() + part.size() || extent < 0)
      throw Error(where + " has an unreadable shape " + text + " in its header");
    shape.push_back(extent);
  }
  return shape;
}

uint32_t little_endian(const std::string& bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i)
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

}  // namespace

NpyHeader parse_npy_header(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 8 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw Error(where + " is not an NPY file (it lacks the \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (!((major == 1 || major == 2) && minor == 0))
    throw Error(where + " has NPY format version " + std::to_string(major) + "." +
                std::to_string(minor) + "; expected 1.0 or 2.0");
  const size_t length_width = major == 1 ? 2 : 4, header_start = 8 + length_width;
  if (bytes.size() < header_start) throw Error(where + " is truncated (inside its header)");
  const size_t header_length = little_endian(bytes, 8, length_width);
  if (bytes.size() - header_start < header_length)
    throw Error(where + " is truncated (inside its header)");
  const std::string header = bytes.substr(header_start, header_length);

  NpyHeader parsed;
  parsed.descr = header_value(header, "descr", where);
  if (header_value(header, "fortran_order", where) != "False")
    throw Error(where + " holds a Fortran-order array; save it in C order " +
                "(numpy.ascontiguousarray)");
  parsed.shape_text = header_value(header, "shape", where);
  parsed.shape = parse_shape(parsed.shape_text, where);
  parsed.data_offset = header_start + header_length;
  return parsed;
}

const char* npy_data(const std::string& bytes, const NpyHeader& header, size_t element_size,
                     const std::string& dtype_name, const std::string& where) {
  uint64_t needed = element_size;
  bool overflow = false;
  for (const int64_t extent : header.shape)
    overflow = overflow || __builtin_mul_overflow(needed, static_cast<uint64_t>(extent), &needed);
  const size_t present = bytes.size() - header.data_offset;
  if (overflow || present < needed)
    throw Error(where + " is truncated: a " + header.shape_text + " " + dtype_name +
                " array needs " + (overflow ? std::string("over 2^64") : std::to_string(needed)) +
                " bytes of data, found " + std::to_string(present));
  return bytes.data() + header.data_offset;
}

void write_npy_array(const torch::Tensor& array, const std::string& path,
                     const std::string& where) {
  if (!array.defined() || array.dim() == 0)
    throw Error(where + ": the array must have at least one dimension");
  std::string descr;
  switch (array.scalar_type()) {
    case torch::kByte:
      descr = "|u1";
      break;
    case torch::kFloat32:
      descr = "<f4";
      break;
    case torch::kFloat64:
      descr = "<f8";
      break;
    default:
      throw Error(where + ": the array must be uint8, float32 or float64, got " +
                  std::string(c10::toString(array.scalar_type())));
  }
  const auto values = array.detach().cpu().contiguous();
  std::string shape;
  for (const int64_t extent : values.sizes()) shape += std::to_string(extent) + ", ";
  shape.resize(shape.size() - (values.dim() == 1 ? 1 : 2));  // "(5,)" but "(3, 2)"
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // numpy pads the header with spaces so the data start at a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  write_atomically(path, where, [&](std::ostream& out) {
    out.write("\x93NUMPY\x01\x00", 8);
    const char length[2] = {static_cast<char>(header.size() & 0xff),
                            static_cast<char>(header.size() >> 8)};
    out.write(length, 2);
    out << header;
    out.write(static_cast<const char*>(values.data_ptr()),
              static_cast<std::streamsize>(values.numel() * values.element_size()));
  });
}

}  // namespace diffeo::data
