#pragma once
// Writing files so that readers only ever see the old file or the complete new one.

#include <functional>
#include <ostream>
#include <string>

namespace diffeo {

/// A temporary path beside `path` (same directory, so the final rename is
/// atomic) for a writer to fill; commit() flushes it to disk and renames it to
/// `path`, and the destructor removes it unless it was committed.  An
/// interrupted or failed write therefore never leaves a truncated file at
/// `path`, and an existing file there survives until the new one is complete.
/// The temporary name is unique per process and call, so threads may write at once.
class AtomicFile {
 public:
  /// `where` prefixes error messages, e.g. "io::save".
  AtomicFile(std::string path, std::string where);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& temporary() const { return temporary_; }

  /// Throws diffeo::Error naming `path`, `what` and the system's reason (errno).
  [[noreturn]] void fail(const std::string& what) const;

  /// fsyncs the temporary file, renames it to `path` and fsyncs the directory
  /// (so the rename survives a power cut); diffeo::Error on failure.
  void commit();

 private:
  std::string path_, where_, temporary_;
  bool committed_ = false;
};

/// Writes through `body` into an AtomicFile for `path` and commits it.  If
/// `body` throws or the stream fails, `path` is untouched.
void write_atomically(const std::string& path, const std::string& where,
                      const std::function<void(std::ostream&)>& body);

}  // namespace diffeo
