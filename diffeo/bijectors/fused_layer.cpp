#include "diffeo/bijectors/fused_layer.h"

#include "diffeo/bijectors/fused_affine.h"
#include "diffeo/bijectors/fused_spline.h"
#include "diffeo/bijectors/spline_transform.h"
#include "diffeo/core/fusion.h"

namespace diffeo {

std::optional<Result> fused_layer(const Transform& transform,
                                  const std::optional<nn::DenseLayers>& conditioner,
                                  const ConditionedInputs& inputs, bool inverse) {
  if (!fused::kernels_apply(conditioner, inputs.x)) return std::nullopt;
  const int64_t transformed = inputs.x.size(1) - inputs.split;
  if (conditioner->weights.back().size(0) != transformed * transform->parameters_per_feature())
    return std::nullopt;
  if (can_fuse_affine(transform, conditioner, inputs.x))
    return fused_affine(*conditioner, inputs,
                        static_cast<const AffineTransform&>(*transform).log_scale_bound(), inverse);
  if (can_fuse_spline(transform, conditioner, inputs.x))
    return fused_spline(*conditioner, inputs,
                        static_cast<const SplineTransform&>(*transform).options(), inverse);
  return std::nullopt;
}

namespace fused {

bool kernels_apply(const std::optional<nn::DenseLayers>& conditioner, const torch::Tensor& x) {
  if (!fused_kernels_enabled() || !conditioner || conditioner->weights.empty()) return false;
  const auto& w = conditioner->weights.front();
  return x.dim() == 2 && x.device().is_cpu() && w.device().is_cpu() && x.dtype() == w.dtype() &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

}  // namespace fused
}  // namespace diffeo
