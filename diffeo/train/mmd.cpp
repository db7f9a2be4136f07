#include "diffeo/train/mmd.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::train {

namespace {

const char* const kWhere = "mmd_squared";

void check_sample(const torch::Tensor& t, const std::string& arg, int64_t min_rows) {
  check_floating(t, arg, kWhere);
  if (t.dim() != 2 || t.size(0) < min_rows)
    throw Error(std::string(kWhere) + ": argument '" + arg + "' must have shape [rows, d] with " +
                "at least " + std::to_string(min_rows) + " row(s), got shape " +
                shape_string(t.sizes()));
}

void check_options(const MmdOptions& options) {
  if (options.kernel().empty())
    throw Error(std::string(kWhere) + ": option 'kernel' has no terms; pass at least one");
  for (const auto& term : options.kernel())
    if (!(std::isfinite(term.c) && term.c > 0 && std::isfinite(term.exponent) && term.exponent > 0))
      throw Error(std::string(kWhere) + ": option 'kernel' needs c and exponent finite and > 0, " +
                  "got a term with c = " + number_string(term.c) +
                  ", exponent = " + number_string(term.exponent));
  check_positive(options.chunk(), "chunk", kWhere);
}

// The sum of k over all pairs (row of x, row of y), float64, `chunk` rows of x at
// a time.  When x and y are one sample (`same`), a row's distance to itself is
// exactly 0 and `skip_self` leaves those pairs out.
double kernel_sum(const torch::Tensor& x, const torch::Tensor& y, bool same, bool skip_self,
                  const MmdOptions& options) {
  const auto y_norm2 = y.square().sum(1);
  const auto x_norm2 = same ? y_norm2 : x.square().sum(1);
  double total = 0;
  for (int64_t start = 0; start < x.size(0); start += options.chunk()) {
    const int64_t rows = std::min(options.chunk(), x.size(0) - start);
    auto d2 = torch::addmm(x_norm2.narrow(0, start, rows).unsqueeze(1) + y_norm2.unsqueeze(0),
                           x.narrow(0, start, rows), y.t(), /*beta=*/1, /*alpha=*/-2)
                  .clamp_min_(0);
    if (same) d2.narrow(1, start, rows).diagonal().zero_();
    auto k = torch::zeros_like(d2);
    for (const auto& term : options.kernel())
      k.add_((d2 + term.c).pow_(-term.exponent), std::pow(term.exponent * term.c, term.exponent));
    if (skip_self) k.narrow(1, start, rows).diagonal().zero_();
    total += k.sum().item<double>();
  }
  return total;
}

}  // namespace

std::vector<InverseMultiquadric> hint_kernel() { return {{0.5, 1.0}, {0.2, 1.0}, {0.2, 0.5}}; }

double mmd_squared(const torch::Tensor& a, const torch::Tensor& b, const MmdOptions& options) {
  const bool unbiased = options.estimate() == MmdEstimate::kUnbiased;
  check_sample(a, "a", unbiased ? 2 : 1);
  check_sample(b, "b", unbiased ? 2 : 1);
  if (a.size(1) != b.size(1))
    throw Error(std::string(kWhere) + ": arguments 'a' (shape " + shape_string(a.sizes()) +
                ") and 'b' (shape " + shape_string(b.sizes()) +
                ") must have the same number of columns");
  check_options(options);
  c10::InferenceMode inference;
  // Distances are translation invariant; centring keeps |x|^2 + |y|^2 - 2 x.y
  // free of cancellation for samples far from the origin.
  const auto shift = a.to(torch::kFloat64).mean(0);
  const auto x = a.to(torch::kFloat64) - shift;
  const auto y = b.to(a.device(), torch::kFloat64) - shift;
  const double n = static_cast<double>(x.size(0)), m = static_cast<double>(y.size(0));
  const double xx_pairs = unbiased ? n * (n - 1) : n * n;
  const double yy_pairs = unbiased ? m * (m - 1) : m * m;
  return kernel_sum(x, x, true, unbiased, options) / xx_pairs +
         kernel_sum(y, y, true, unbiased, options) / yy_pairs -
         2 * kernel_sum(x, y, false, false, options) / (n * m);
}

}  // namespace diffeo::train
