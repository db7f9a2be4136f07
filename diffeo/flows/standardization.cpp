#include "diffeo/flows/standardization.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::flows {

Standardization standardization_of(const torch::Tensor& rows, const std::string& what) {
  const std::string where = "standardization_of";
  check_defined(rows, "rows", where);
  if (rows.dim() != 2 || rows.size(0) < 2)
    throw Error(where + ": argument 'rows' (" + what +
                ") expected [rows, columns] with at least 2 rows, got shape " +
                shape_string(rows.sizes()));
  const auto x = rows.to(torch::kFloat64);
  const auto mean = x.mean(0).contiguous(), scale = x.std(0).contiguous();
  Standardization s{{mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel()},
                    {scale.data_ptr<double>(), scale.data_ptr<double>() + scale.numel()}};
  for (size_t c = 0; c < s.scale.size(); ++c) {
    const std::string column = where + ": column " + std::to_string(c + 1) + " of " + what;
    // Any NaN or infinite value makes the mean or the spread non-finite.
    if (!std::isfinite(s.mean[c]) || !std::isfinite(s.scale[c]))
      throw Error(column + " is not finite (mean " + number_string(s.mean[c]) +
                  ", standard deviation " + number_string(s.scale[c]) +
                  "); a density needs finite data");
    if (!(s.scale[c] > 0))
      throw Error(column + " is constant (" + number_string(s.mean[c]) +
                  " in every row); a density needs spread in every column");
  }
  return s;
}

Flow build(const std::string& name, const FlowOptions& options, const Standardization& s) {
  return build(name, options, s.mean, s.scale);
}

}  // namespace diffeo::flows
