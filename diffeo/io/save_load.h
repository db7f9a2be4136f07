#pragma once
// Saving and loading flows: spec and weights in one file.

#include <string>

#include "diffeo/flows/flow.h"

namespace diffeo::io {

/// Writes `flow` to `path`: one LibTorch archive holding a format tag, the
/// flow's JSON spec, its dtype and every parameter and buffer by name.  The
/// file is written to a temporary name beside `path` and renamed into place,
/// so an interrupted save never leaves a half-written model (an existing file
/// at `path` survives until the new one is complete).
void save(const flows::Flow& flow, const std::string& path);

/// Rebuilds the flow a file written by save() describes and loads its
/// weights, without the caller knowing its type.  A missing, truncated,
/// foreign or inconsistent file (a tensor missing or of the wrong shape) gives
/// a diffeo::Error naming the path; never a crash.
flows::Flow load(const std::string& path);

}  // namespace diffeo::io
