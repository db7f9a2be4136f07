#pragma once
// Writing files so that readers only ever see the old file or the complete new one.

#include <functional>
#include <ostream>
#include <string>

namespace diffeo {

/// A temporary name beside `path`, unique per process and call, so
/// concurrent writes never share one.
std::string temporary_path(const std::string& path);

/// Flushes `temporary` to disk and renames it to `path`.  On failure the
/// temporary is removed, `path` is left as it was, and a diffeo::Error
/// starting with `where` says why.
void commit_file(const std::string& temporary, const std::string& path, const std::string& where);

/// Writes through `body` into a temporary beside `path`, then commit_file.
/// If `body` throws or the stream fails, the temporary is removed and `path`
/// is untouched.
void write_atomically(const std::string& path, const std::string& where,
                      const std::function<void(std::ostream&)>& body);

}  // namespace diffeo
