#include "diffeo/core/read_file.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "diffeo/core/error.h"

namespace diffeo {

std::string read_file(const std::string& path, const std::string& where) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw Error(where + ": cannot read '" + path + "' (it is a directory; give a file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(where + ": cannot open '" + path + "' (missing or unreadable)");
  std::string bytes;
  const auto size = std::filesystem::file_size(path, error);
  if (!error && std::filesystem::is_regular_file(path, error)) {
    // Sized up front and read straight into the string: no second copy.
    bytes.resize(size);
    if (in.read(bytes.data(), static_cast<std::streamsize>(size))) return bytes;
  } else {  // a pipe or a device (/dev/stdin): read to its end
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.bad()) return bytes;
  }
  throw Error(where + ": cannot read '" + path + "'");
}

}  // namespace diffeo
