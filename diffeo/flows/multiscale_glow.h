#pragma once
// Glow's multi-scale architecture for images (Kingma & Dhariwal 2018).

#include "diffeo/bijectors/bijector.h"
#include "diffeo/flows/flow_options.h"

namespace diffeo::flows {

/// The multi-scale Glow bijector on flat images of size dim = C * H * W
/// (event rank 1, so it sits on StandardNormal(dim) like every flow).  Reads
/// image_shape = [C, H, W] (required), levels L (0: as many as H and W halve
/// to, at most 3), layers K (steps per level; 0: 8), hidden[0] (conditioner
/// channels), activation, context_features, log_scale_bound and seed.  In the
/// density direction each level squeezes ([c, h, w] -> [4c, h/2, w/2]), runs K
/// steps of act_norm_2d, invertible_conv_1x1 (seed + the step's index over all
/// levels) and an affine ConvCoupling, then, except at the last level, a
/// FactorOut whose inner bijector is the next level on the first 2c channels;
/// it ends by unsqueezing, so every level keeps its shape.  The whole is
/// wrapped in Reshaped(..., image_shape).  Throws diffeo::Error for bad
/// options, a missing image_shape, or H and W that do not halve L times.
Bijector multiscale_glow_bijector(const FlowOptions& options);

}  // namespace diffeo::flows
