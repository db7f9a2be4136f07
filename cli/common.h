#pragma once
// What the modelling subcommands share: usage errors, option checks, output
// files that are checked before long work, model loading and text output.

#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "diffeo/data/toy.h"
#include "diffeo/flows/flow.h"

namespace diffeo::cli {

/// A command line that is wrong in itself (a bad option value, a missing or
/// conflicting option), whatever the files say: main prints it and exits 2.
/// Failures while running (files, numerics) are diffeo::Error and exit 1.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& command, const std::string& message)
      : std::runtime_error(command + ": " + message), command_(command) {}
  const std::string& command() const { return command_; }

 private:
  std::string command_;
};

/// The program's command line (argv), kept by main for the --nproc launcher.
void set_command_line(int argc, char** argv);
const std::vector<std::string>& command_line();

/// `value` of `option` must be positive.
void require_positive(int64_t value, const std::string& option, const std::string& command);
/// `value` of `option` must be positive and finite.
void require_positive(double value, const std::string& option, const std::string& command);
/// `path` given to `option` must end in one of `extensions` (case-insensitive).
void require_extension(const std::string& path, const std::string& option,
                       const std::vector<std::string>& extensions, const std::string& command);
/// A comma list of positive widths such as "64,64".
std::vector<int64_t> parse_widths(const std::string& text, const std::string& option,
                                  const std::string& command);
/// The registered flow `name`, or a UsageError listing the flows.
void require_flow(const std::string& name, const std::string& command);
/// The toy density `name`, or a UsageError listing the densities; with
/// `need_sampler`, also a UsageError for one without a sampler.
const data::ToyDensity& density_option(const std::string& name, bool need_sampler,
                                       const std::string& command);

/// `options` after flows::check_options for `flow`, its errors as UsageError.
flows::FlowOptions checked_flow_options(const flows::FlowOptions& options, const std::string& flow,
                                        const std::string& command);

/// Sets LibTorch's intra-op threads (it starts with one on these machines).
void set_threads(int64_t threads, const std::string& command);

/// Checks before any long work that `path` can be written (its directory
/// exists and is writable, it is not a directory) by creating and removing a
/// probe beside it; diffeo::Error otherwise.  Nothing is left behind.
void check_writable(const std::string& path, const std::string& option, const std::string& command);

/// Reads the --data file `path` (.csv or .npy) for `command`.  A file with
/// NaN or infinite values is refused (diffeo::Error naming their count, the
/// first one's position and --drop-nonfinite) unless `drop_nonfinite`: then
/// the rows holding them are dropped with one warning line on stderr.  A file
/// with no finite row left is refused either way.
/// With `header`, it receives a CSV file's column names (empty without a header).
torch::Tensor read_data(const std::string& path, bool drop_nonfinite, const std::string& command,
                        std::vector<std::string>* header = nullptr);

/// io::load in evaluation mode.  A conditional flow is refused unless
/// `conditional_ok` (the commands that take a context: eval --data, sample
/// --context).
flows::Flow load_model(const std::string& path, const std::string& command,
                       bool conditional_ok = false);
/// --context of a conditional model for `command`: a .csv/.npy file of
/// context rows, or numbers inline ("0.5,1.2"): one row, or with
/// `one_value_per_row` and one context feature, one row per number.  Each row
/// must have `features` values (diffeo::Error naming `model` otherwise).
torch::Tensor context_rows(const std::string& text, int64_t features, const std::string& model,
                           const std::string& command, bool one_value_per_row = false);
/// The flow's dtype: its first parameter's (float32 unless converted).
torch::Dtype model_dtype(const flows::Flow& flow);
/// "float32" / "float64" rather than LibTorch's "Float" / "Double".
std::string dtype_name(torch::Dtype dtype);

/// A number for text output: up to 6 significant digits, "inf", "nan".
std::string number(double value);
/// A duration for text output: "1.23 s".
std::string seconds(double value);

}  // namespace diffeo::cli
