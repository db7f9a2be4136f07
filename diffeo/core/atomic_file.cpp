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

AtomicFile::AtomicFile(std::string path, std::string where)
    : path_(std::move(path)), where_(std::move(where)) {
  if (path_.empty()) throw Error(where_ + ": argument 'path' is empty; pass a file name");
  static std::atomic<uint64_t> counter{0};
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
  // On disk before the rename, so a crash cannot leave an empty file in place.
  errno = 0;
  const int fd = ::open(temporary_.c_str(), O_RDONLY);
  if (fd < 0) fail("the temporary file is gone");
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) fail("cannot flush the file to disk");
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) fail("cannot move the file into place");
  committed_ = true;
  // The rename itself is durable once the directory is flushed; a failure
  // here cannot undo it, so it is not an error.
  const auto slash = path_.find_last_of('/');
  const std::string directory = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void write_atomically(const std::string& path, const std::string& where,
                      const std::function<void(std::ostream&)>& body) {
  AtomicFile file(path, where);
  {
    std::ofstream out(file.temporary(), std::ios::binary);
    if (!out) file.fail("cannot create a temporary file beside it");
    body(out);
    out.close();
    if (out.fail()) file.fail("write failed");
  }
  file.commit();
}

}  // namespace diffeo
