#pragma once
// diffeo::Error, the one exception type of the library.

#include <stdexcept>
#include <string>

namespace diffeo {

/// The single exception type diffeo throws for bad input or failed operations.
/// Its message names the argument at fault, what was expected and what was
/// received, so a user can act on it without reading diffeo's source.  It
/// derives from std::runtime_error; the CLI prints it as `diffeo: error: ...`.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace diffeo
