// The dense-stack kernels split among threads: every way a layer's products
// are shared (by rows or by columns, forward, weight gradient and input
// gradient) against autograd in float64, on one and on two threads.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"

namespace diffeo::nn {
namespace {

constexpr int64_t kRows = 256;

// Widths that, over 256 rows, share every product among 2 threads, and each
// way.  The first: the middle layer's output by columns (320 > 256 rows), the
// last layer's weight gradient and input gradient by columns (320 inputs > 32
// outputs and > 256 rows), the rest by rows.  The second: 3 inputs, the 300
// outputs of the first layer by columns, and a last layer of 2 outputs, made
// as matrix-vector products.
const std::vector<std::vector<int64_t>> kWidths{{96, 128, 320, 32}, {3, 300, 203, 2}};

// Degrees for a MADE-like connectivity: unit o of layer l sees input i when
// degrees[l + 1][o] >= degrees[l][i] (> into the last layer).
std::vector<torch::Tensor> test_degrees(const std::vector<int64_t>& widths) {
  std::vector<torch::Tensor> degrees;
  for (int64_t width : widths) degrees.push_back(torch::randint(1, 9, {width}, torch::kFloat));
  return degrees;
}

torch::Tensor mask_of(const std::vector<torch::Tensor>& degrees, size_t l) {
  const auto out = degrees[l + 1].unsqueeze(1), in = degrees[l].unsqueeze(0);
  return (l + 2 == degrees.size() ? out > in : out >= in).to(torch::kDouble);
}

struct Reference {
  torch::Tensor y, grad_x;
  std::vector<torch::Tensor> grad_weights, grad_biases;
};

Reference autograd_reference(const DenseLayers& layers, const torch::Tensor& x,
                             const torch::Tensor& grad_out) {
  const size_t L = layers.weights.size();
  std::vector<torch::Tensor> weights, biases;
  auto input = x.clone().requires_grad_();
  auto h = input;
  for (size_t l = 0; l < L; ++l) {
    weights.push_back(layers.weights[l].clone().requires_grad_());
    biases.push_back(layers.biases[l].clone().requires_grad_());
    auto w = layers.degrees.empty() ? weights[l] : weights[l] * mask_of(layers.degrees, l);
    h = torch::nn::functional::linear(h, w, biases[l]);
    if (l + 1 < L)
      h = layers.activation == KernelActivation::kRelu ? torch::relu(h) : torch::tanh(h);
  }
  (h * grad_out).sum().backward();
  Reference r{h.detach(), input.grad(), {}, {}};
  for (size_t l = 0; l < L; ++l) {
    r.grad_weights.push_back(weights[l].grad());
    r.grad_biases.push_back(biases[l].grad());
  }
  return r;
}

class SharedProducts
    : public ::testing::TestWithParam<std::tuple<std::vector<int64_t>, KernelActivation, bool>> {};

TEST_P(SharedProducts, MatchAutogradOnOneAndTwoThreads) {
  const auto [widths, activation, made] = GetParam();
  torch::manual_seed(7);
  DenseLayers layers;
  layers.activation = activation;
  if (made) layers.degrees = test_degrees(widths);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    auto w = torch::randn({widths[l + 1], widths[l]}, torch::kDouble) / 8;
    // MADE keeps its weights zero outside the mask; the kernels then use them as they are.
    if (made) w *= mask_of(layers.degrees, l);
    layers.weights.push_back(w);
    layers.biases.push_back(torch::randn({widths[l + 1]}, torch::kDouble));
  }
  const auto x = torch::randn({kRows, widths.front()}, torch::kDouble);
  const auto grad_out = torch::randn({kRows, widths.back()}, torch::kDouble);
  const auto reference = autograd_reference(layers, x, grad_out);

  const int saved = torch::get_num_threads();
  for (int threads : {1, 2}) {
    torch::set_num_threads(threads);
    DenseTape tape;
    const auto y = dense_forward(layers, x, &tape);
    EXPECT_TRUE(torch::allclose(y, reference.y, 1e-12, 1e-12)) << threads << " thread(s)";
    EXPECT_TRUE(torch::allclose(dense_forward(layers, x), reference.y, 1e-12, 1e-12));
    std::vector<torch::Tensor> gw, gb;
    const auto gx = dense_backward(layers, x, tape, grad_out, gw, gb);
    EXPECT_TRUE(torch::allclose(gx, reference.grad_x, 1e-12, 1e-12)) << threads << " thread(s)";
    for (size_t l = 0; l < gw.size(); ++l) {
      EXPECT_TRUE(torch::allclose(gw[l], reference.grad_weights[l], 1e-12, 1e-12))
          << "layer " << l << ", " << threads << " thread(s)";
      EXPECT_TRUE(torch::allclose(gb[l], reference.grad_biases[l], 1e-12, 1e-12))
          << "layer " << l << ", " << threads << " thread(s)";
      if (made)  // masked where the weight is
        EXPECT_EQ((gw[l] * (1 - mask_of(layers.degrees, l))).abs().max().item<double>(), 0.0);
    }
  }
  torch::set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(
    DenseKernels, SharedProducts,
    ::testing::Combine(::testing::ValuesIn(kWidths),
                       ::testing::Values(KernelActivation::kRelu, KernelActivation::kTanh),
                       ::testing::Bool()));

}  // namespace
}  // namespace diffeo::nn
