#pragma once
// The options every flow builder reads, and their JSON form.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "diffeo/core/spec.h"

namespace diffeo::flows {

/// Options of the flow builders (MAF, RealNVP, NSF, Glow), TORCH_ARG style:
/// FlowOptions(2).layers(5).hidden({64, 64}).  Each builder reads the fields
/// that apply to it and documents them; `layers` = 0 picks the builder's
/// default depth.
struct FlowOptions {
  explicit FlowOptions(int64_t dim) : dim_(dim) {}
  /// Event size D of the data.
  TORCH_ARG(int64_t, dim);
  /// Number of flow layers (0: the builder's default).
  TORCH_ARG(int64_t, layers) = 0;
  /// Hidden widths of each conditioner network.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  TORCH_ARG(std::string, activation) = "relu";
  /// Width of the context for conditional flows (0: unconditional).
  TORCH_ARG(int64_t, context_features) = 0;
  /// Inner transform of MAF/RealNVP layers: "affine", "spline" or "bernstein"
  /// (NSF: always spline).
  TORCH_ARG(std::string, transform) = "affine";
  /// Order M of Bernstein polynomials (transform "bernstein", flow "bernstein").
  TORCH_ARG(int64_t, order) = 8;
  /// Flow "bernstein": "none" (exact, the polynomial continued linearly) or
  /// "sigmoid" (the reference project's chain; its density misses the base's
  /// mass outside a bounded interval, see BernsteinFlow).
  TORCH_ARG(std::string, squash) = "none";
  /// Spline bins K and bound B (the spline acts on [-B, B], identity outside).
  TORCH_ARG(int64_t, bins) = 8;
  TORCH_ARG(double, bound) = 6.0;
  /// Soft clamp c of affine log-scales.
  TORCH_ARG(double, log_scale_bound) = 3.0;
  /// NSF variant: "coupling" or "autoregressive".
  TORCH_ARG(std::string, variant) = "coupling";
  /// Images: the [C, H, W] shape of each event (dim == C * H * W; empty for
  /// vector data).  Glow then builds the multi-scale image architecture and
  /// the coupling flows (Real NVP, NSF) alternate checkerboard masks.
  TORCH_ARG(std::vector<int64_t>, image_shape) = std::vector<int64_t>{};
  /// Multi-scale Glow: number of scales (0: as many as the image halves to,
  /// at most 3).  Each scale squeezes, runs `layers` steps and factors out half
  /// of its channels, except the last.
  TORCH_ARG(int64_t, levels) = 0;
  /// Seed of the initial weights (conditioners, LU init): equal specs give
  /// equal initial flows.
  TORCH_ARG(uint64_t, seed) = 0;
};

/// Per-builder names for the same options, as in MAF(MAFOptions(2).layers(5)).
using MAFOptions = FlowOptions;
using RealNVPOptions = FlowOptions;
using NSFOptions = FlowOptions;
using GlowOptions = FlowOptions;

json to_json(const FlowOptions& options);
/// Reads options written by to_json; unknown keys or wrong types throw diffeo::Error.
FlowOptions options_from_json(const json& object);

/// Checks the fields every builder relies on; `where` names the builder.
void check_options(const FlowOptions& options, const std::string& where);

}  // namespace diffeo::flows
