#pragma once
// Which columns of a data table a model was trained on: its targets (the
// flow's event) and, for a conditional flow p(targets | context), its context
// columns.  `diffeo train --target-cols / --context-cols` records the layout
// in the model's spec ("data": {"columns": N, "targets": [...], "context":
// [...]}, 1-based), so that eval and sample read files of the same layout.

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "diffeo/core/spec.h"
#include "diffeo/flows/flow.h"

namespace diffeo::cli {

/// A table layout: 0-based target and context column numbers of a table with
/// `columns` columns, and the columns' names when the table had a header.
struct TableLayout {
  int64_t columns = 0;
  std::vector<int64_t> targets, context;
  std::vector<std::string> names;  // one per column, or empty

  /// The spec's "data" entry for it (1-based numbers).
  json to_json() const;
  /// "3 columns: targets 2, context 1 and 3" for messages.
  std::string describe() const;
  /// [rows, targets] and [rows, context] (undefined without context) of
  /// `table`.  When both this layout and the table (`header`) have column
  /// names, the columns are found by name (in any order, others ignored);
  /// else by position, and the table must have `columns` columns.  A
  /// diffeo::Error for `command` names `path` and what was expected.
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& table,
                                                const std::vector<std::string>& header,
                                                const std::string& path,
                                                const std::string& command) const;
};

/// The layout recorded in a model's spec, if any.
std::optional<TableLayout> recorded_layout(const flows::Flow& flow);

}  // namespace diffeo::cli
