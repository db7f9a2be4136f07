#pragma once
// Each `diffeo` subcommand registers itself on the app through one function.

#include <CLI/CLI.hpp>

namespace diffeo::cli {

/// `diffeo info`: versions, threads and the build's capabilities.
void add_info_command(CLI::App& app);

}  // namespace diffeo::cli
