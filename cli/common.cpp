#include "common.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "diffeo/core/error.h"
#include "diffeo/core/spec.h"
#include "diffeo/data/table.h"
#include "diffeo/io/save_load.h"

namespace diffeo::cli {

namespace {
std::vector<std::string>& stored_command_line() {
  static std::vector<std::string> line;
  return line;
}
}  // namespace

void set_command_line(int argc, char** argv) { stored_command_line().assign(argv, argv + argc); }
const std::vector<std::string>& command_line() { return stored_command_line(); }


namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

void require_positive(int64_t value, const std::string& option, const std::string& command) {
  if (value <= 0)
    throw UsageError(command, option + " must be a positive integer, got " + std::to_string(value));
}

void require_positive(double value, const std::string& option, const std::string& command) {
  if (!(value > 0) || !std::isfinite(value))
    throw UsageError(command, option + " must be a positive number, got " + number(value));
}

void require_extension(const std::string& path, const std::string& option,
                       const std::vector<std::string>& extensions, const std::string& command) {
  for (const auto& extension : extensions)
    if (data::has_extension(path, extension)) return;
  std::string allowed;
  for (size_t i = 0; i < extensions.size(); ++i)
    allowed += (i == 0 ? "" : i + 1 == extensions.size() ? " or " : ", ") + extensions[i];
  throw UsageError(command, option + " '" + path + "' must end in " + allowed);
}

std::vector<int64_t> parse_widths(const std::string& text, const std::string& option,
                                  const std::string& command) {
  std::vector<int64_t> widths;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    long long width = 0;
    try {
      width = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || width <= 0)
      throw UsageError(command, option + " must be a comma list of positive widths such as " +
                                    "64,64; got '" + text + "'");
    widths.push_back(width);
    if (comma == std::string::npos) return widths;
    start = comma + 1;
  }
}

void require_flow(const std::string& name, const std::string& command) {
  const auto names = flows::flow_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw UsageError(command, "unknown flow '" + name + "'; known flows: " + join(names));
}

const data::ToyDensity& density_option(const std::string& name, bool need_sampler,
                                       const std::string& command) {
  const auto names = data::toy_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw UsageError(command, "unknown density '" + name + "'; known densities: " + join(names));
  const auto& density = data::toy(name);
  if (need_sampler && !density.sample)
    throw UsageError(command, "density '" + name +
                                  "' has no sampler (it is an energy target); 'diffeo densities' " +
                                  "lists those that have one");
  return density;
}

flows::FlowOptions checked_flow_options(const flows::FlowOptions& options, const std::string& flow,
                                        const std::string& command) {
  try {
    flows::check_options(options, flow);
  } catch (const Error& e) {
    throw UsageError(command, e.what());
  }
  return options;
}

void set_threads(int64_t threads, const std::string& command) {
  require_positive(threads, "--threads", command);
  torch::set_num_threads(static_cast<int>(threads));
}

void check_writable(const std::string& path, const std::string& option,
                    const std::string& command) {
  const std::string where = command + ": cannot write " + option + " '" + path + "'";
  if (std::filesystem::is_directory(path))
    throw Error(where + " (it is a directory); give a file name");
  const std::string probe = path + ".probe." + std::to_string(::getpid());
  std::ofstream out(probe);
  if (!out)
    throw Error(where + " (" + std::strerror(errno) +
                "); give a path in an existing, writable directory");
  out.close();
  std::remove(probe.c_str());
}

torch::Tensor read_data(const std::string& path, bool drop_nonfinite, const std::string& command,
                        std::vector<std::string>* header) {
  // Always read with dropping, so the refusal below can name the flag and
  // the rows; the reader itself refuses a file with no finite row left.
  const auto read = data::read_table(path, data::ReadOptions().drop_nonfinite(true));
  if (header) *header = read.header;
  if (read.dropped_rows == 0) return read.table;
  const std::string rows = std::to_string(read.dropped_rows) + " of " + std::to_string(read.rows) +
                           " rows";
  if (!drop_nonfinite)
    throw Error(command + ": --data '" + path + "' holds " +
                std::to_string(read.non_finite_values) + " NaN or infinite values in " + rows +
                " (the first at " + read.first_non_finite +
                "); expected finite numbers: fix those rows, or pass --drop-nonfinite to drop "
                "them");
  std::cerr << "diffeo: warning: dropped " << rows << " of '" << path
            << "' holding NaN or infinite values (the first at " << read.first_dropped_row
            << ")\n";
  return read.table;
}

flows::Flow load_model(const std::string& path, const std::string& command,
                       bool conditional_ok) {
  auto flow = io::load(path);
  if (!conditional_ok && flow->flow_options().context_features() > 0)
    throw Error(command + ": '" + path + "' is a conditional flow (" +
                std::to_string(flow->flow_options().context_features()) +
                " context features); " + command + " takes unconditional flows only");
  flow->eval();
  return flow;
}

torch::Dtype model_dtype(const flows::Flow& flow) {
  return c10::typeMetaToScalarType(flow->options().dtype());
}

std::string dtype_name(torch::Dtype dtype) {
  if (dtype == torch::kFloat32) return "float32";
  if (dtype == torch::kFloat64) return "float64";
  return c10::toString(dtype);
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f s", value);
  return text;
}

torch::Tensor context_rows(const std::string& text, int64_t features, const std::string& model,
                           const std::string& command, bool one_value_per_row) {
  torch::Tensor rows;
  if (data::has_extension(text, ".csv") || data::has_extension(text, ".npy")) {
    rows = read_data(text, /*drop_nonfinite=*/false, command);
  } else {
    std::vector<double> values;
    for (const auto& item : split_list(text)) {
      char* end = nullptr;
      const double v = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !std::isfinite(v))
        throw UsageError(command, "--context takes a .csv/.npy file or finite numbers "
                                   "separated by commas, got '" + text + "'");
      values.push_back(v);
    }
    rows = torch::tensor(values, torch::kFloat64);
    rows = one_value_per_row && features == 1 ? rows.unsqueeze(1) : rows.unsqueeze(0);
  }
  if (rows.size(1) != features)
    throw Error(command + ": --context gives " + std::to_string(rows.size(1)) +
                " values per row but '" + model + "' takes " + std::to_string(features) +
                " context features");
  return rows;
}

}  // namespace diffeo::cli
