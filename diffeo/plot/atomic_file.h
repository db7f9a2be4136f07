#pragma once
// AtomicFile: write a file under a temporary name, then rename it into place.

#include <string>

namespace diffeo::plot {

/// A temporary path beside `path` (same directory, so the final rename is
/// atomic) for a writer to fill; commit() renames it to `path`, and the
/// destructor removes it unless it was committed.  An interrupted or failed
/// write therefore never leaves a truncated file at `path`, and an existing
/// file there survives until the new one is complete.  The temporary name is
/// unique per process and call, so threads may write at once.
class AtomicFile {
 public:
  /// `where` prefixes error messages, e.g. "plot::Figure::save".
  AtomicFile(std::string path, std::string where);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& temporary() const { return temporary_; }

  /// Throws diffeo::Error naming `path` and the system's reason (errno).
  [[noreturn]] void fail(const std::string& what) const;

  /// Renames the temporary file to `path`; throws diffeo::Error on failure.
  void commit();

 private:
  std::string path_, where_, temporary_;
  bool committed_ = false;
};

}  // namespace diffeo::plot
