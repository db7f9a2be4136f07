#pragma once
// Reading a whole file for the parsers of user files (tables, model files).

#include <string>

namespace diffeo {

/// The bytes of the file at `path`, read in one piece.  diffeo::Error
/// prefixed with `where` (e.g. "read_csv") for a directory, a missing or
/// unreadable file, or a failed read.
std::string read_file(const std::string& path, const std::string& where);

}  // namespace diffeo
