#include "diffeo/flows/multiscale_glow.h"

#include <algorithm>

#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/conv_coupling.h"
#include "diffeo/bijectors/factor_out.h"
#include "diffeo/bijectors/inverse.h"
#include "diffeo/bijectors/pixelwise.h"
#include "diffeo/bijectors/reshaped.h"
#include "diffeo/bijectors/squeeze.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/flows/transforms.h"
#include "diffeo/nn/conv_net.h"

namespace diffeo::flows {

namespace {

constexpr int64_t kMaxLevels = 3;

// How many times H and W can both be halved, at most kMaxLevels.
int64_t default_levels(int64_t H, int64_t W) {
  int64_t levels = 0;
  while (levels < kMaxLevels && H % 2 == 0 && W % 2 == 0) {
    H /= 2;
    W /= 2;
    ++levels;
  }
  return levels;
}

class Builder {
 public:
  Builder(const FlowOptions& options, int64_t levels)
      : options_(options),
        levels_(levels),
        steps_(options.layers() > 0 ? options.layers() : 8),
        transform_(make_transform(FlowOptions(options).transform("affine"))) {}

  // Level `index` on images of `channels` channels, data side first in the
  // chain, so the density direction (inverse) reads left to right.
  Bijector level(int64_t index, int64_t channels) {
    const int64_t c = 4 * channels;
    std::vector<Bijector> members{Inverse(Squeeze())};
    for (int64_t k = 0; k < steps_; ++k) {
      members.push_back(act_norm_2d(c));
      members.push_back(invertible_conv_1x1(c, options_.seed() + index * steps_ + k));
      members.push_back(ConvCoupling(c, conditioner(c / 2, c - c / 2), transform_));
    }
    if (index + 1 < levels_) {
      // The inner levels first, then this conditioner, in statements: both
      // draw from the global generator, and the order of a call's arguments
      // is the compiler's choice (clang's left to right is kept).
      auto inner = level(index + 1, c / 2);
      auto net = conditioner(c / 2, c - c / 2);
      members.push_back(FactorOut(c, inner, net, transform_));
    }
    members.push_back(Squeeze());
    return Chain(members);
  }

 private:
  torch::nn::AnyModule conditioner(int64_t in, int64_t transformed) const {
    return torch::nn::AnyModule(
        nn::ConvNet(nn::ConvNetOptions(in, transformed * transform_->parameters_per_feature())
                        .hidden_channels(options_.hidden()[0])
                        .activation(options_.activation())
                        .context_features(options_.context_features())));
  }

  const FlowOptions& options_;
  int64_t levels_, steps_;
  Transform transform_;
};

}  // namespace

Bijector multiscale_glow_bijector(const FlowOptions& options) {
  const std::string where = "MultiscaleGlow";
  check_options(options, where);
  const auto& shape = options.image_shape();
  if (shape.empty())
    throw Error(where + ": argument 'image_shape' must be [C, H, W] for the image flow, got []");
  const int64_t C = shape[0], H = shape[1], W = shape[2];
  const int64_t levels = options.levels() > 0 ? options.levels() : default_levels(H, W);
  const int64_t scale = int64_t{1} << std::min<int64_t>(levels, 62);
  if (levels == 0 || H % scale != 0 || W % scale != 0)
    throw Error(where + ": argument 'image_shape' " + shape_string(shape) + " cannot be squeezed " +
                std::to_string(std::max<int64_t>(levels, 1)) +
                " time(s): each of the 'levels' scales halves H and W, so both must be divisible "
                "by 2^levels (" +
                (options.levels() > 0 ? "levels " + std::to_string(options.levels())
                                      : "levels 0: as many as H and W allow, at most " + std::to_string(kMaxLevels)) +
                ")");
  return Reshaped(Builder(options, levels).level(0, C), shape);
}

}  // namespace diffeo::flows
