#pragma once
// Each `diffeo` subcommand registers itself on the app through one function.

#include <CLI/CLI.hpp>

namespace diffeo::cli {

/// `diffeo info`: versions, threads and the build's capabilities, or a model
/// file's spec, flow, dimension, parameter count and dtype (--model).
void add_info_command(CLI::App& app);
/// `diffeo densities`: the toy densities and what each offers.
void add_densities_command(CLI::App& app);
/// `diffeo train`: fit a flow to a toy density or a data set and save it.
void add_train_command(CLI::App& app);
/// `diffeo sample`: draws from a saved flow into a CSV/NPY file.
void add_sample_command(CLI::App& app);
/// `diffeo eval`: NLL of a saved flow on data or a toy density, and the KL.
void add_eval_command(CLI::App& app);
/// `diffeo plot`: samples, density or 3-D surface of a flow and/or a toy density.
void add_plot_command(CLI::App& app);
/// `diffeo gallery`: the flow zoo on the toy densities as a page of pictures.
void add_gallery_command(CLI::App& app);

}  // namespace diffeo::cli
