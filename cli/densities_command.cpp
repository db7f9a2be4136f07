// `diffeo densities`: the toy densities, what each offers and its plot range.

#include <algorithm>
#include <iostream>
#include <vector>

#include "commands.h"
#include "common.h"
#include "diffeo/data/toy.h"

namespace diffeo::cli {

namespace {

void run() {
  std::vector<std::vector<std::string>> rows{
      {"name", "sampler", "exact", "target", "range", "description"}};
  auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
  for (const auto& d : data::toy_densities()) {
    const auto& r = d.range;
    rows.push_back({d.name, yes_no(bool(d.sample)), yes_no(bool(d.log_prob)),
                    yes_no(bool(d.unnormalized_log_prob)),
                    "[" + number(r.x_min) + ", " + number(r.x_max) + "] x [" + number(r.y_min) +
                        ", " + number(r.y_max) + "]",
                    d.description});
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c + 1 < row.size(); ++c)
      line += row[c] + std::string(widths[c] - row[c].size() + 2, ' ');
    std::cout << line << row.back() << "\n";
  }
}

}  // namespace

void add_densities_command(CLI::App& app) {
  app.add_subcommand("densities",
                     "List the toy densities: sampler, exact density, reverse-KL target, range")
      ->callback(run);
}

}  // namespace diffeo::cli
