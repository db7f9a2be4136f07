#pragma once
// Saving and loading flows: spec and weights in one file.

#include <string>

#include "diffeo/flows/flow.h"

namespace diffeo::io {

/// Writes `flow` to `path`: one checksummed diffeo file (io/archive.h) holding
/// the format tag "diffeo-flow/2", the flow's JSON spec, its dtype and every
/// parameter and buffer by name.  The file is written to a temporary name
/// beside `path`, flushed and renamed into place, so an interrupted or failed
/// save (a full disk) never leaves a half-written model and an existing file
/// at `path` survives until the new one is complete.  A flow holding NaN or
/// infinite weights is refused (diffeo::Error), so a diverged training never
/// overwrites a good model.
void save(const flows::Flow& flow, const std::string& path);

/// Rebuilds the flow a file written by save() describes and loads its
/// weights, without the caller knowing its type.  A missing, empty, truncated,
/// corrupt (checksum), foreign or inconsistent file (a spec that cannot be
/// built, a tensor missing, of the wrong shape or non-finite) gives a
/// diffeo::Error naming the path; never a crash.
flows::Flow load(const std::string& path);

}  // namespace diffeo::io
