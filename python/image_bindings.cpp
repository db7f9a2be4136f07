// The image bijectors from Python: CHW images [batch..., C, H, W] (event rank
// 3), and Reshaped to put an image chain on a vector base.

#include <torch/extension.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "conversions.h"
#include "diffeo/bijectors/act_norm.h"
#include "diffeo/bijectors/conv_coupling.h"
#include "diffeo/bijectors/factor_out.h"
#include "diffeo/bijectors/lu_linear.h"
#include "diffeo/bijectors/pixelwise.h"
#include "diffeo/bijectors/reshaped.h"
#include "diffeo/bijectors/squeeze.h"
#include "diffeo/core/error.h"
#include "diffeo/flows/flow_options.h"
#include "diffeo/flows/transforms.h"
#include "diffeo/nn/conv_net.h"

namespace py = pybind11;

namespace diffeo::python {

namespace {

// What ConvCoupling and FactorOut take besides their own arguments: the
// conditioner ConvNet's options and the transform's, named as in
// nn::ConvNetOptions and FlowOptions.
struct CouplingArgs {
  int64_t hidden_channels;
  std::string transform;
  int64_t bins, order;
  double bound, log_scale_bound;
  int64_t context_features;
  std::string activation;
  bool zero_last_layer;
};

// The conditioner and transform of a coupling over `channels` channels, as
// multiscale_glow builds them: a ConvNet from the first C/2 channels (and the
// context) to the parameters of the other C - C/2.
std::pair<torch::nn::AnyModule, Transform> coupling_parts(int64_t channels, const CouplingArgs& a,
                                                          const std::string& where) {
  if (channels < 2)
    throw Error(where +
                ": argument 'channels' must be >= 2 (half of them condition the other "
                "half), got " +
                std::to_string(channels));
  const auto options = flows::FlowOptions(channels)
                           .transform(a.transform)
                           .bins(a.bins)
                           .order(a.order)
                           .bound(a.bound)
                           .log_scale_bound(a.log_scale_bound)
                           .context_features(a.context_features)
                           .activation(a.activation);
  flows::check_options(options, where);
  auto transform = flows::make_transform(options);
  const int64_t kept = channels / 2, transformed = channels - kept;
  nn::ConvNet conditioner(
      nn::ConvNetOptions(kept, transformed * transform->parameters_per_feature())
          .hidden_channels(a.hidden_channels)
          .activation(a.activation)
          .context_features(a.context_features)
          .zero_last_layer(a.zero_last_layer));
  return {torch::nn::AnyModule(conditioner), transform};
}

// Registers `name` with its own leading keywords, then CouplingArgs' in order.
template <typename Function, typename... Leading>
void def_coupling(py::module_& m, const char* name, Function&& function, const char* doc,
                  Leading&&... leading) {
  m.def(name, std::forward<Function>(function), std::forward<Leading>(leading)...,
        py::arg("hidden_channels") = 64, py::arg("transform") = "affine", py::arg("bins") = 8,
        py::arg("order") = 8, py::arg("bound") = 6.0, py::arg("log_scale_bound") = 3.0,
        py::arg("context_features") = 0, py::arg("activation") = "relu",
        py::arg("zero_last_layer") = true, doc);
}

}  // namespace

void bind_image_bijectors(py::module_& m) {
  m.def(
      "Squeeze", [] { return Bijector(Squeeze()); },
      "Space-to-depth: forward [..., C, H, W] -> [..., 4C, H/2, W/2] (each 2x2 patch into "
      "channels: channel 4c + 2i + j at (h, w) is channel c at (2h + i, 2w + j)); log-det 0. "
      "Forward needs even H and W, inverse a channel count divisible by 4. In a chain on data, "
      "Inverse(Squeeze()) squeezes in the density direction.");
  m.def(
      "Pixelwise", [](const Bijector& bijector) { return Bijector(Pixelwise(bijector)); },
      py::arg("bijector"),
      "Lifts a vector bijector on the C channels to images [..., C, H, W]: every pixel's "
      "channel vector goes through it (log-dets summed over the pixels)");
  m.def(
      "ActNorm2d",
      [](int64_t channels, double eps) { return Bijector(Pixelwise(ActNorm(channels, eps))); },
      py::arg("channels"), py::arg("eps") = 1e-6,
      "Glow's activation normalisation of images, Pixelwise(ActNorm(channels)): a per-channel "
      "scale and shift set from the first training batch's statistics over batch and pixels");
  m.def(
      "InvertibleConv1x1",
      [](int64_t channels, uint64_t seed, bool identity_init) {
        return Bijector(
            Pixelwise(LULinear(LULinearOptions(channels).seed(seed).identity_init(identity_init))));
      },
      py::arg("channels"), py::arg("seed") = 0, py::arg("identity_init") = false,
      "Glow's invertible 1x1 convolution, Pixelwise(LULinear(channels)): a learned channel "
      "mixing W = P L U (a random rotation drawn from seed, or the identity)");
  def_coupling(
      m, "ConvCoupling",
      [](int64_t channels, int64_t hidden_channels, const std::string& transform, int64_t bins,
         int64_t order, double bound, double log_scale_bound, int64_t context_features,
         const std::string& activation, bool zero_last_layer) {
        auto [conditioner, t] =
            coupling_parts(channels,
                           {hidden_channels, transform, bins, order, bound, log_scale_bound,
                            context_features, activation, zero_last_layer},
                           "ConvCoupling");
        return Bijector(ConvCoupling(channels, conditioner, t));
      },
      "Coupling over the channels of images [..., channels, H, W]: the first channels/2 pass "
      "through and condition (with the context) an elementwise transform (affine, spline or "
      "bernstein) of every value of the others, through Glow's ConvNet (3x3, 1x1, 3x3 "
      "convolutions of hidden_channels). zero_last_layer: starts as the identity. Alternate it "
      "with InvertibleConv1x1.",
      py::arg("channels"));
  def_coupling(
      m, "FactorOut",
      [](int64_t channels, const Bijector& inner, int64_t hidden_channels,
         const std::string& transform, int64_t bins, int64_t order, double bound,
         double log_scale_bound, int64_t context_features, const std::string& activation,
         bool zero_last_layer) {
        auto [conditioner, t] =
            coupling_parts(channels,
                           {hidden_channels, transform, bins, order, bound, log_scale_bound,
                            context_features, activation, zero_last_layer},
                           "FactorOut");
        return Bijector(FactorOut(channels, inner, conditioner, t));
      },
      "Glow's multi-scale split on images [..., channels, H, W], keeping their shape: the first "
      "channels/2 go through `inner` (a shape-preserving image bijector on [channels/2, H, W], "
      "e.g. the next scale), the others are factored out under a learned conditional prior "
      "(a transform whose parameters a ConvNet computes from the first half, as in "
      "ConvCoupling). zero_last_layer: the prior starts as N(0, 1).",
      py::arg("channels"), py::arg("inner"));
  m.def(
      "Reshaped",
      [](const Bijector& bijector, std::vector<int64_t> shape) {
        return Bijector(Reshaped(bijector, std::move(shape)));
      },
      py::arg("bijector"), py::arg("shape"),
      "A vector bijector on flat vectors of size prod(shape) that runs `bijector` (an image "
      "bijector, event rank len(shape)) on each vector reshaped to shape: an image chain on "
      "StandardNormal(C * H * W)");
}

}  // namespace diffeo::python
