#pragma once

#include <string>

namespace diffeo {

/// The library's version, "MAJOR.MINOR.PATCH".
std::string version();

}  // namespace diffeo
