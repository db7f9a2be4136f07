#include "diffeo/bnn/layer_geometry.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bnn {

LayerGeometry LayerGeometry::dense(int64_t in, int64_t out) {
  check_positive(in, "in", "bnn::LayerGeometry::dense");
  check_positive(out, "out", "bnn::LayerGeometry::dense");
  LayerGeometry g;
  g.in = in;
  g.out = out;
  return g;
}

LayerGeometry LayerGeometry::conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel,
                                    int64_t stride, int64_t padding) {
  const std::string where = "bnn::LayerGeometry::conv2d";
  check_positive(in_channels, "in_channels", where);
  check_positive(out_channels, "out_channels", where);
  check_positive(kernel, "kernel", where);
  check_positive(stride, "stride", where);
  if (padding < 0)
    throw Error(where + ": argument 'padding' must be >= 0, got " + std::to_string(padding));
  LayerGeometry g;
  g.in = in_channels;
  g.out = out_channels;
  g.kernel = kernel;
  g.stride = stride;
  g.padding = padding;
  return g;
}

std::vector<int64_t> LayerGeometry::weight_shape() const {
  if (is_conv()) return {out, in, kernel, kernel};
  return {out, in};
}

torch::Tensor LayerGeometry::apply(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias) const {
  if (is_conv()) return torch::conv2d(x, weight, bias, stride, padding);
  return torch::linear(x, weight, bias);
}

void LayerGeometry::check_input(const torch::Tensor& x, const std::string& where) const {
  check_floating(x, "x", where);
  const int64_t rank = is_conv() ? 4 : 2;
  if (x.dim() != rank || x.size(1) != in)
    throw Error(where + ": argument 'x' must have shape " +
                (is_conv() ? "[batch, " + std::to_string(in) + ", height, width]"
                           : "[batch, " + std::to_string(in) + "]") +
                ", got " + shape_string(x.sizes()));
  if (is_conv() && (x.size(2) + 2 * padding < kernel || x.size(3) + 2 * padding < kernel))
    throw Error(where + ": argument 'x' of shape " + shape_string(x.sizes()) +
                " is smaller than the kernel (" + std::to_string(kernel) + ")");
}

std::string LayerGeometry::describe() const {
  if (!is_conv()) return "dense " + std::to_string(in) + " -> " + std::to_string(out);
  return "conv2d " + std::to_string(in) + " -> " + std::to_string(out) + ", kernel " +
         std::to_string(kernel);
}

}  // namespace diffeo::bnn
