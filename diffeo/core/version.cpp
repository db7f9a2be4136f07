#include "diffeo/core/version.h"

namespace diffeo {

std::string version() { return DIFFEO_VERSION; }

}  // namespace diffeo
