#include "diffeo/plot/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "diffeo/core/error.h"

namespace diffeo::plot {

AtomicFile::AtomicFile(std::string path, std::string where)
    : path_(std::move(path)), where_(std::move(where)) {
  if (path_.empty()) throw Error(where_ + ": argument 'path' is empty; pass a file name");
  static std::atomic<unsigned> counter{0};
  temporary_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(temporary_.c_str());
}

void AtomicFile::fail(const std::string& what) const {
  const int error = errno;
  throw Error(where_ + ": cannot write '" + path_ + "': " + what +
              (error ? std::string(" (") + std::strerror(error) + ")" : std::string()));
}

void AtomicFile::commit() {
  errno = 0;
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) fail("cannot move the file into place");
  committed_ = true;
}

}  // namespace diffeo::plot
