#include "diffeo/bijectors/squeeze.h"

#include <numeric>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

namespace {

// t's batch dimensions followed by `tail`.
std::vector<int64_t> with_batch(const torch::Tensor& t, int64_t event_rank,
                                std::initializer_list<int64_t> tail) {
  auto shape = t.sizes().slice(0, t.dim() - event_rank).vec();
  shape.insert(shape.end(), tail);
  return shape;
}

// Keeps the first `batch` dimensions in place, then the event dimensions in `order`.
torch::Tensor permute_event(const torch::Tensor& t, int64_t batch,
                            std::initializer_list<int64_t> order) {
  std::vector<int64_t> dims(batch);
  std::iota(dims.begin(), dims.end(), 0);
  for (auto d : order) dims.push_back(batch + d);
  return t.permute(dims);
}

}  // namespace

SqueezeImpl::SqueezeImpl() : BijectorImpl(/*event_rank=*/3) {}

Result SqueezeImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  const auto C = x.size(-3), H = x.size(-2), W = x.size(-1);
  if (H % 2 != 0 || W % 2 != 0)
    throw Error("Squeeze: argument 'x' has height " + std::to_string(H) + " and width " +
                std::to_string(W) + " (shape " + shape_string(x.sizes()) +
                ") but even H and W are expected");
  // [C, H/2, i, W/2, j] -> [C, i, j, H/2, W/2]: channel 4c + 2i + j.
  auto patches = x.reshape(with_batch(x, 3, {C, H / 2, 2, W / 2, 2}));
  auto y = permute_event(patches, x.dim() - 3, {0, 2, 4, 1, 3})
               .reshape(with_batch(x, 3, {4 * C, H / 2, W / 2}));
  return {y, zero_log_det(x, 3)};
}

Result SqueezeImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  const auto C = y.size(-3), H = y.size(-2), W = y.size(-1);
  if (C % 4 != 0)
    throw Error("Squeeze: argument 'y' has " + std::to_string(C) + " channels (shape " +
                shape_string(y.sizes()) + ") but a multiple of 4 is expected");
  auto patches = y.reshape(with_batch(y, 3, {C / 4, 2, 2, H, W}));
  auto x = permute_event(patches, y.dim() - 3, {0, 3, 1, 4, 2})
               .reshape(with_batch(y, 3, {C / 4, 2 * H, 2 * W}));
  return {x, zero_log_det(y, 3)};
}

}  // namespace diffeo
