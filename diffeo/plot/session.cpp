#include "diffeo/plot/session.h"

#include <plstream.h>

#include <type_traits>

#include "diffeo/core/error.h"

namespace diffeo::plot {

static_assert(std::is_same_v<PLINT, int>, "Session stores PLplot's error code as int");

static std::mutex& plplot_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The `where` of the Session that holds the lock, for throw_on_exit's message.
static const std::string* current_where = nullptr;

// plexit() calls this, then exit(): throwing is the only way not to end the
// process.  PLplot's C code is built with unwind tables, and the stream it
// leaves behind is ended by ~Session, after which PLplot works again.
static int throw_on_exit(const char* message) {
  throw Error(*current_where + ": PLplot: fatal error: " + message);
}

Session::Session(std::string where)
    : where_(std::move(where)), lock_(plplot_mutex()), stream_(std::make_unique<plstream>()) {
  current_where = &where_;
  plsexit(throw_on_exit);
  // PLplot writes "<message>, aborting operation" here instead of to stderr.
  stream_->sError(&error_code_, error_message_);
}

Session::~Session() = default;  // plstream's destructor ends the stream (plend1)

void Session::check() {
  if (error_code_ == 0) return;
  std::string message(error_message_);
  const auto first = message.find_first_not_of('\n');
  const auto last = message.find_last_not_of('\n');
  message = first == std::string::npos ? "unknown error" : message.substr(first, last - first + 1);
  error_code_ = 0;
  error_message_[0] = '\0';
  throw Error(where_ + ": PLplot: " + message);
}

}  // namespace diffeo::plot
