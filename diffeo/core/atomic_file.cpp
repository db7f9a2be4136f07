#include "diffeo/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "diffeo/core/error.h"

namespace diffeo {

std::string temporary_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void commit_file(const std::string& temporary, const std::string& path, const std::string& where) {
  // On disk before the rename, so a crash cannot leave an empty file in place.
  const int fd = ::open(temporary.c_str(), O_RDONLY);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    throw Error(where + ": cannot write '" + path + "' (" + reason + ")");
  }
}

void write_atomically(const std::string& path, const std::string& where,
                      const std::function<void(std::ostream&)>& body) {
  const std::string temporary = temporary_path(path);
  std::ofstream out(temporary, std::ios::binary);
  if (!out) throw Error(where + ": cannot write '" + path + "' (" + std::strerror(errno) + ")");
  try {
    body(out);
    out.close();
    if (out.fail()) throw Error(where + ": cannot write '" + path + "' (write failed)");
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
  commit_file(temporary, path, where);
}

}  // namespace diffeo
