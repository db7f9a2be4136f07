#include "diffeo/nn/tiled_layer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "diffeo/core/error.h"

namespace diffeo::nn {

namespace {

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define DIFFEO_TILES 1

// Rows per tile: 4 rows of 4 vectors are 16 accumulators, which with the 4
// weight vectors and the broadcast input fit AVX-512's 32 registers (2 vectors
// a row under AVX2's 16); more rows measured no faster.
constexpr int kTileRows = 4;

// W lanes of T in a W * sizeof(T)-byte register.  Spelled per element type:
// g++ drops vector_size on a dependent type (an alias template's T), leaving
// a plain T, where clang makes the vector.
template <typename T, int W>
struct VectorOf;
template <int W>
struct VectorOf<float, W> {
  typedef float type __attribute__((vector_size(W * sizeof(float))));
};
template <int W>
struct VectorOf<double, W> {
  typedef double type __attribute__((vector_size(W * sizeof(double))));
};
template <typename T, int W>
using Vector = typename VectorOf<T, W>::type;

#define DIFFEO_INLINE inline __attribute__((always_inline))

// Loads and stores at any T address (memcpy: unaligned vector moves).
// (Vectors go by reference: passed by value they would change the calling
// convention between the baseline code and the vector code.)
template <typename V, typename T>
DIFFEO_INLINE void load(V& v, const T* from) {
  std::memcpy(&v, from, sizeof v);
}

template <typename V, typename T>
DIFFEO_INLINE void store(T* to, const V& v, int64_t lanes) {
  std::memcpy(to, &v, static_cast<size_t>(lanes) * sizeof(T));
}

// y[R, valid] = b + x[R, in] w^T over the C vectors of columns that start at
// wt and b (wt's rows ld apart), the ReLU when asked.  A Partial tile (a
// row's last, valid < C W) computes the columns at and past `valid` from the
// zero padding but does not store them; it is a variant of its own because a
// store of part of a vector takes the vector's address, which would keep
// every tile's accumulators in memory.
template <typename T, int W, int R, int C, bool Partial>
DIFFEO_INLINE void tile(const T* x, int64_t in, const T* wt, int64_t ld, const T* b, T* y,
                        int64_t ldy, int64_t valid, bool relu) {
  using V = Vector<T, W>;
  V acc[R][C];
  for (int c = 0; c < C; ++c) {
    V bias;
    load(bias, b + c * W);
    for (int r = 0; r < R; ++r) acc[r][c] = bias;
  }
  for (int64_t k = 0; k < in; ++k) {
    V w[C];
    for (int c = 0; c < C; ++c) load(w[c], wt + k * ld + c * W);
    for (int r = 0; r < R; ++r) {
      const T xk = x[r * in + k];
      for (int c = 0; c < C; ++c) acc[r][c] += xk * w[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      V v = acc[r][c];
      if (relu) v = v > T(0) ? v : T(0);
      if constexpr (Partial)
        store(y + r * ldy + c * W, v, std::clamp<int64_t>(valid - c * W, 0, W));
      else
        store(y + r * ldy + c * W, v, W);  // a constant size: one vector move
    }
}

// The tile of C vectors, or of `vectors` < C (a row's last columns).
template <typename T, int W, int R, int C>
DIFFEO_INLINE void tile_of(int64_t vectors, const T* x, int64_t in, const T* wt, int64_t ld,
                           const T* b, T* y, int64_t ldy, int64_t valid, bool relu) {
  if constexpr (C > 1)
    if (vectors < C) return tile_of<T, W, R, C - 1>(vectors, x, in, wt, ld, b, y, ldy, valid, relu);
  if (valid < C * W)
    tile<T, W, R, C, true>(x, in, wt, ld, b, y, ldy, valid, relu);
  else
    tile<T, W, R, C, false>(x, in, wt, ld, b, y, ldy, valid, relu);
}

// R rows of the layer, Cmax vectors of columns at a time.
template <typename T, int W, int R, int Cmax>
DIFFEO_INLINE void tile_row(const TiledWeights<T>& w, const T* x, T* y, bool relu) {
  for (int64_t c0 = 0; c0 < w.padded; c0 += Cmax * W)
    tile_of<T, W, R, Cmax>((w.padded - c0) / W, x, w.in, w.weight.data() + c0, w.padded,
                           w.bias.data() + c0, y + c0, w.out, w.out - c0, relu);
}

template <typename T, int W, int Cmax>
DIFFEO_INLINE void tile_rows(const TiledWeights<T>& w, const T* x, T* y, int64_t rows,
                             bool relu) {
  int64_t r = 0;
  for (; r + kTileRows <= rows; r += kTileRows)
    tile_row<T, W, kTileRows, Cmax>(w, x + r * w.in, y + r * w.out, relu);
  for (; r < rows; ++r) tile_row<T, W, 1, Cmax>(w, x + r * w.in, y + r * w.out, relu);
}

// The sum of v's lanes, halving: log2(W) extracts and adds.
template <typename T, int W>
DIFFEO_INLINE T sum_lanes(const Vector<T, W>& v) {
  if constexpr (W == 1) {
    return v[0];
  } else {
    Vector<T, W / 2> low, high;
    std::memcpy(&low, &v, sizeof low);
    std::memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof low, sizeof high);
    return sum_lanes<T, W / 2>(low + high);
  }
}

// A layer of O <= kDotOutputs outputs: per row, O dot products of x's row
// with w's rows (w as it is, [O, in]), W inputs at a time, then each summed
// over its lanes.  Tiles would compute a whole vector of outputs for O.
template <typename T, int W, int O>
DIFFEO_INLINE void dot_rows(const TiledWeights<T>& w, const T* x, T* y, int64_t rows) {
  using V = Vector<T, W>;
  const int64_t in = w.in, whole = in / W * W;
  const T* weights = w.weight.data();
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * in;
    V acc[O] = {};
    for (int64_t k = 0; k < whole; k += W) {
      V xk;
      load(xk, row + k);
      for (int o = 0; o < O; ++o) {
        V wk;
        load(wk, weights + o * in + k);
        acc[o] += xk * wk;
      }
    }
    for (int o = 0; o < O; ++o) {
      T sum = w.bias[o] + sum_lanes<T, W>(acc[o]);
      for (int64_t k = whole; k < in; ++k) sum += row[k] * weights[o * in + k];
      y[r * O + o] = sum;
    }
  }
}

template <typename T, int W, int O = kDotOutputs>
DIFFEO_INLINE void dot_layer(const TiledWeights<T>& w, const T* x, T* y, int64_t rows) {
  if constexpr (O > 1)
    if (w.out < O) return dot_layer<T, W, O - 1>(w, x, y, rows);
  dot_rows<T, W, O>(w, x, y, rows);
}

// A layer by tiles, or by dot products for few outputs.
template <typename T, int W, int Cmax>
DIFFEO_INLINE void layer(const TiledWeights<T>& w, const T* x, T* y, int64_t rows, bool relu) {
  if (w.out <= kDotOutputs) {
    dot_layer<T, W>(w, x, y, rows);
    if (relu)
      for (int64_t i = 0; i < rows * w.out; ++i) y[i] = y[i] > T(0) ? y[i] : T(0);
    return;
  }
  tile_rows<T, W, Cmax>(w, x, y, rows, relu);
}

template <typename T>
__attribute__((target("avx512f"))) void tiled_avx512(const TiledWeights<T>& w, const T* x,
                                                      T* y, int64_t rows, bool relu) {
  layer<T, 64 / sizeof(T), 4>(w, x, y, rows, relu);
}

template <typename T>
__attribute__((target("avx2,fma"))) void tiled_avx2(const TiledWeights<T>& w, const T* x, T* y,
                                                    int64_t rows, bool relu) {
  layer<T, 32 / sizeof(T), 2>(w, x, y, rows, relu);
}
#endif

}  // namespace

bool tiled_layer_pays(int64_t in, int64_t out) { return in <= 64 || out <= kDotOutputs; }

template <typename T>
TiledWeights<T> tiled_weights(const T* w, const T* b, int64_t in, int64_t out) {
  TiledWeights<T> t;
  t.in = in;
  t.out = out;
  if (out <= kDotOutputs) {
    t.padded = out;
    t.weight.assign(w, w + in * out);
    t.bias.assign(b, b + out);
    return t;
  }
  constexpr int64_t lanes = 64 / sizeof(T);
  t.padded = (out + lanes - 1) / lanes * lanes;
  t.weight.assign(static_cast<size_t>(in * t.padded), T(0));
  t.bias.assign(static_cast<size_t>(t.padded), T(0));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) t.weight[i * t.padded + o] = w[o * in + i];
  std::copy(b, b + out, t.bias.begin());
  return t;
}

template <typename T>
void tiled_layer(const TiledWeights<T>& w, const T* x, T* y, int64_t rows, bool relu,
                 VectorIsa isa) {
#ifdef DIFFEO_TILES
  if (isa == VectorIsa::kAvx512) return tiled_avx512(w, x, y, rows, relu);
  if (isa == VectorIsa::kAvx2) return tiled_avx2(w, x, y, rows, relu);
#endif
  (void)w, (void)x, (void)y, (void)rows, (void)relu;
  throw Error("tiled_layer: no vector instruction set (" +
              std::to_string(static_cast<int>(isa)) + ") to run on");
}

#undef DIFFEO_INLINE
#undef DIFFEO_TILES

template TiledWeights<float> tiled_weights(const float*, const float*, int64_t, int64_t);
template TiledWeights<double> tiled_weights(const double*, const double*, int64_t, int64_t);
template void tiled_layer(const TiledWeights<float>&, const float*, float*, int64_t, bool,
                          VectorIsa);
template void tiled_layer(const TiledWeights<double>&, const double*, double*, int64_t, bool,
                          VectorIsa);

}  // namespace diffeo::nn
