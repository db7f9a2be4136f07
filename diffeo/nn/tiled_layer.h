#pragma once
// A dense layer y = activation(b + x w^T) on a block of rows, computed in
// register tiles: 4 rows by up to 4 vectors of columns accumulate over all
// inputs in vector registers, start as the bias and take the ReLU before the
// one store.  For inference blocks of small layers (up to 64 inputs) this
// does in one pass what BLAS does in three (the bias copied into the output,
// the product packing its operands and accumulating onto it, the activation):
// 1.2-1.5x BLAS's speed on [1024, 64] x [64, 64], 2-3x on a 1- or 2-input
// layer.  Wider layers stay with BLAS, which blocks for the caches.

#include <cstdint>
#include <vector>

#include "diffeo/core/vector_isa.h"

namespace diffeo::nn {

/// Layers of at most this many outputs (a 2-D flow's last) are computed as
/// dot products of each row with the weight's rows instead, summed over the
/// vector's lanes at the end: a tile would compute a whole vector of outputs,
/// and BLAS's matrix-vector products read the rows once per output.
constexpr int64_t kDotOutputs = 4;

/// Whether a layer with `in` inputs and `out` outputs should take the tiled
/// kernels: tiles when its weight rows stay in the first-level cache while a
/// tile sweeps them, dot products for few outputs.
bool tiled_layer_pays(int64_t in, int64_t out);

/// A layer's weight w [out, in] and bias b [out] laid out for the kernels:
/// for tiles, `weight` is w^T as [in, padded] and `bias` b as [padded],
/// padded = out rounded up to a whole 64-byte vector with zeros, so that
/// every load of a tile is a full vector; for at most kDotOutputs outputs,
/// w and b as they are (padded = out).
template <typename T>
struct TiledWeights {
  std::vector<T> weight, bias;
  int64_t in = 0, out = 0, padded = 0;
};

template <typename T>
TiledWeights<T> tiled_weights(const T* w, const T* b, int64_t in, int64_t out);

/// y[rows, out] = b + x[rows, in] w^T, then the ReLU when `relu`; x's and
/// y's rows are contiguous.  `isa` must not be kNone.
template <typename T>
void tiled_layer(const TiledWeights<T>& w, const T* x, T* y, int64_t rows, bool relu,
                 VectorIsa isa);

}  // namespace diffeo::nn
