#pragma once
// Session: one PLplot stream, used under the process-wide PLplot lock.

#include <memory>
#include <mutex>
#include <string>

class plstream;  // PLplot's C++ stream; only diffeo/plot/*.cpp include <plstream.h>.

namespace diffeo::plot {

/// A PLplot stream that is safe to use from any thread and never ends the
/// process.  PLplot keeps global state (the current stream, the exit handler),
/// so every Session holds one process-wide mutex for its whole life: plots from
/// several threads are drawn one after the other.  PLplot's recoverable errors
/// (an "aborting operation" message) are captured rather than printed, and
/// check() turns them into a diffeo::Error; its fatal errors, which would call
/// exit(), throw a diffeo::Error from PLplot's exit handler instead.  The
/// stream is ended (and its output file closed by PLplot) on destruction.
class Session {
 public:
  /// `where` prefixes every error message, e.g. "plot::Figure::save".
  explicit Session(std::string where);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  plstream& stream() { return *stream_; }

  /// Throws diffeo::Error if PLplot aborted an operation since the last check.
  void check();

 private:
  std::string where_;
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<plstream> stream_;
  int error_code_ = 0;
  char error_message_[4096] = {};
};

}  // namespace diffeo::plot
