// The register-tiled dense layer against a float64 matrix product: every
// vector instruction set this CPU has, with rows and columns that leave every
// kind of remainder (rows not a multiple of the tile's 4, columns not a
// multiple of a vector or of a tile's 4 vectors, inputs not a multiple of a
// vector for the dot products of few outputs), and the inference path of the
// dense stack that uses it against autograd.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/nn/tiled_layer.h"

namespace diffeo::nn {
namespace {

std::vector<VectorIsa> isas_of_this_cpu() {
  std::vector<VectorIsa> isas;
  for (VectorIsa isa : {VectorIsa::kAvx2, VectorIsa::kAvx512}) {
    VectorIsaGuard guard(isa);
    if (vector_isa() == isa) isas.push_back(isa);
  }
  return isas;
}

template <typename T>
torch::Tensor tiled(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                    bool relu, VectorIsa isa) {
  const auto weights = tiled_weights(w.data_ptr<T>(), b.data_ptr<T>(), w.size(1), w.size(0));
  auto y = torch::full({x.size(0), w.size(0)}, 12345.0, x.options());  // every value written
  tiled_layer(weights, x.data_ptr<T>(), y.data_ptr<T>(), x.size(0), relu, isa);
  return y;
}

TEST(TiledLayer, MatchesTheProductForEveryShapeAndInstructionSet) {
  const auto isas = isas_of_this_cpu();
  if (isas.empty()) GTEST_SKIP() << "this CPU has neither AVX2 with FMA nor AVX-512";
  torch::manual_seed(3);
  for (VectorIsa isa : isas)
    for (int64_t in : {1, 2, 3, 17, 64, 70})
      for (int64_t out : {1, 2, 3, 4, 5, 8, 16, 23, 64, 100})
        for (int64_t rows : {1, 3, 4, 5, 13})
          for (bool relu : {false, true}) {
            const auto x = torch::randn({rows, in}, torch::kDouble);
            const auto w = torch::randn({out, in}, torch::kDouble);
            const auto b = torch::randn({out}, torch::kDouble);
            auto expected = torch::addmm(b, x, w.t());
            if (relu) expected = torch::relu(expected);
            const std::string where = "isa " + std::to_string(static_cast<int>(isa)) + ", in " +
                                      std::to_string(in) + ", out " + std::to_string(out) +
                                      ", rows " + std::to_string(rows);
            EXPECT_TRUE(torch::allclose(tiled<double>(x, w, b, relu, isa), expected, 1e-13,
                                        1e-13))
                << where;
            const auto single =
                tiled<float>(x.to(torch::kFloat), w.to(torch::kFloat), b.to(torch::kFloat), relu,
                             isa);
            EXPECT_TRUE(torch::allclose(single.to(torch::kDouble), expected, 1e-5, 1e-5)) << where;
          }
}

TEST(TiledLayer, WeightsAreTransposedAndPaddedToWholeVectorsForTiles) {
  const auto w = torch::arange(10, torch::kDouble).reshape({5, 2});  // [out 5, in 2]
  const auto b = torch::arange(5, torch::kDouble) + 7;
  const auto t = tiled_weights(w.data_ptr<double>(), b.data_ptr<double>(), 2, 5);
  EXPECT_EQ(t.padded, 8);  // 64 bytes of doubles
  const std::vector<double> first_input{0, 2, 4, 6, 8, 0, 0, 0};
  EXPECT_EQ(std::vector<double>(t.weight.begin(), t.weight.begin() + 8), first_input);
  EXPECT_EQ(t.bias, (std::vector<double>{7, 8, 9, 10, 11, 0, 0, 0}));
}

TEST(TiledLayer, FewOutputsKeepTheWeightAsItIsForDotProducts) {
  const auto w = torch::arange(6, torch::kDouble).reshape({3, 2});
  const auto b = torch::tensor({7.0, 8.0, 9.0}, torch::kDouble);
  const auto t = tiled_weights(w.data_ptr<double>(), b.data_ptr<double>(), 2, 3);
  EXPECT_EQ(t.padded, 3);
  EXPECT_EQ(t.weight, (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(t.bias, (std::vector<double>{7, 8, 9}));
}

TEST(TiledLayer, TheBlockedInferencePathMatchesAutogradWithEachInstructionSet) {
  // 2 x 1024 + 3 rows: two whole blocks and a short one, shared by 2 threads.
  // Layers of 2 -> 64 -> 37 -> 23 -> 96 inputs take tiles, 96 -> 40 BLAS
  // and 40 -> 3 dot products.
  torch::manual_seed(5);
  const std::vector<int64_t> widths{2, 64, 37, 23, 96, 40, 3};
  for (auto activation : {KernelActivation::kRelu, KernelActivation::kTanh}) {
    DenseLayers layers;
    layers.activation = activation;
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      layers.weights.push_back(torch::randn({widths[l + 1], widths[l]}, torch::kDouble) / 4);
      layers.biases.push_back(torch::randn({widths[l + 1]}, torch::kDouble));
    }
    const auto x = torch::randn({2 * 1024 + 3, widths.front()}, torch::kDouble);
    auto expected = x;
    for (size_t l = 0; l < layers.weights.size(); ++l) {
      expected = torch::addmm(layers.biases[l], expected, layers.weights[l].t());
      if (l + 1 < layers.weights.size())
        expected = activation == KernelActivation::kRelu ? torch::relu(expected)
                                                         : torch::tanh(expected);
    }
    const int saved = torch::get_num_threads();
    for (VectorIsa isa : {VectorIsa::kNone, VectorIsa::kAvx2, VectorIsa::kAvx512})
      for (int threads : {1, 2}) {
        VectorIsaGuard guard(isa);
        torch::set_num_threads(threads);
        EXPECT_TRUE(torch::allclose(dense_forward(layers, x), expected, 1e-12, 1e-12))
            << "isa " << static_cast<int>(vector_isa()) << ", " << threads << " thread(s)";
      }
    torch::set_num_threads(saved);
  }
}

}  // namespace
}  // namespace diffeo::nn
