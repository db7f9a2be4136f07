#include "table_layout.h"

#include <algorithm>

#include "diffeo/core/error.h"

namespace diffeo::cli {

namespace {

std::vector<int64_t> one_based(const std::vector<int64_t>& columns) {
  std::vector<int64_t> out;
  for (auto c : columns) out.push_back(c + 1);
  return out;
}

std::string column_list(const std::vector<int64_t>& columns) {
  std::string text;
  for (size_t i = 0; i < columns.size(); ++i)
    text += (i == 0 ? "" : i + 1 == columns.size() ? " and " : ", ") + std::to_string(columns[i] + 1);
  return text;
}

}  // namespace

json TableLayout::to_json() const {
  json out{{"columns", columns}, {"targets", one_based(targets)}, {"context", one_based(context)}};
  if (!names.empty()) out["names"] = names;
  return out;
}

std::string TableLayout::describe() const {
  auto list = [&](const std::vector<int64_t>& c) {
    std::string text = column_list(c);
    if (names.empty()) return text;
    text += " (";
    for (size_t i = 0; i < c.size(); ++i) text += (i ? ", " : "") + names[c[i]];
    return text + ")";
  };
  std::string text = std::to_string(columns) + " columns: target" +
                     (targets.size() > 1 ? "s " : " ") + list(targets);
  if (!context.empty()) text += ", context " + list(context);
  return text;
}

std::pair<torch::Tensor, torch::Tensor> TableLayout::split(const torch::Tensor& table,
                                                           const std::vector<std::string>& header,
                                                           const std::string& path,
                                                           const std::string& command) const {
  auto positions = [&](const std::vector<int64_t>& c) {
    if (names.empty() || header.empty()) return c;
    std::vector<int64_t> found;
    for (auto column : c) {
      const auto at = std::find(header.begin(), header.end(), names[column]);
      if (at == header.end())
        throw Error(command + ": '" + path + "' has no column named '" + names[column] +
                    "'; the model was trained on a table of " + describe());
      found.push_back(at - header.begin());
    }
    return found;
  };
  if ((names.empty() || header.empty()) && table.size(1) != columns)
    throw Error(command + ": '" + path + "' has " + std::to_string(table.size(1)) +
                " columns, but the model was trained on a table of " + describe() +
                "; give a file with that layout");
  auto pick = [&](const std::vector<int64_t>& c) {
    return c.empty() ? torch::Tensor()
                     : table.index_select(1, torch::tensor(positions(c), torch::kLong));
  };
  return {pick(targets), pick(context)};
}

std::optional<TableLayout> recorded_layout(const flows::Flow& flow) {
  const auto& spec = flow->spec();
  if (!spec.contains("data") || !spec.at("data").contains("targets")) return std::nullopt;
  const auto& data = spec.at("data");
  TableLayout layout;
  layout.columns = data.at("columns").get<int64_t>();
  for (auto c : data.at("targets").get<std::vector<int64_t>>()) layout.targets.push_back(c - 1);
  for (auto c : data.at("context").get<std::vector<int64_t>>()) layout.context.push_back(c - 1);
  if (data.contains("names")) layout.names = data.at("names").get<std::vector<std::string>>();
  if (!layout.names.empty() && static_cast<int64_t>(layout.names.size()) != layout.columns)
    throw Error("the model's spec records " + std::to_string(layout.names.size()) +
                " column names for a table of " + std::to_string(layout.columns) + " columns");
  for (const auto* list : {&layout.targets, &layout.context})
    for (auto c : *list)
      if (c < 0 || c >= layout.columns)
        throw Error("the model's spec records column " + std::to_string(c + 1) +
                    " of a table of " + std::to_string(layout.columns) + " columns");
  if (static_cast<int64_t>(layout.context.size()) != flow->flow_options().context_features())
    throw Error("the model's spec records " + std::to_string(layout.context.size()) +
                " context columns for a flow of " +
                std::to_string(flow->flow_options().context_features()) + " context features");
  return layout;
}

}  // namespace diffeo::cli
