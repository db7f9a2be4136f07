#include "diffeo/bijectors/domain_guard.h"

#include <limits>

namespace diffeo {

DomainGuard::DomainGuard(const torch::Tensor& y, torch::Tensor outside, const torch::Scalar& safe)
    : outside_(std::move(outside)), value_(torch::where(outside_, safe, y)) {}

DomainGuard::DomainGuard(const torch::Tensor& y, torch::Tensor outside, const torch::Tensor& safe)
    : outside_(std::move(outside)), value_(torch::where(outside_, safe, y)) {}

torch::Tensor DomainGuard::log_det(const torch::Tensor& log_det) const {
  return log_det.masked_fill(outside_, -std::numeric_limits<double>::infinity());
}

}  // namespace diffeo
