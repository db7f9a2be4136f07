#include "diffeo/nn/dense_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "diffeo/core/parallel.h"
#include "diffeo/nn/tiled_layer.h"

// Fortran BLAS (OpenBLAS here, the library LibTorch itself calls): column-major.
extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
void sgemv_(const char* trans, const int* m, const int* n, const float* alpha, const float* a,
            const int* lda, const float* x, const int* incx, const float* beta, float* y,
            const int* incy);
void dgemv_(const char* trans, const int* m, const int* n, const double* alpha, const double* a,
            const int* lda, const double* x, const int* incx, const double* beta, double* y,
            const int* incy);
// OpenMP (libgomp, which LibTorch and OpenBLAS already load).
int omp_get_max_threads(void);
void omp_set_num_threads(int);
}

namespace diffeo::nn {

namespace {

// Products below this many multiply-adds run on one thread: OpenBLAS (OpenMP
// build) threads by omp_get_max_threads() at each call, and on 2 cores the
// fork/join of a split [128, 64] x [64, 64] product costs more than it saves
// (a 128x64 Real NVP step took 2 ms on 2 threads against 1 ms on one).
constexpr double kThreadedGemmWork = 1 << 24;

class SmallProductOnOneThread {
 public:
  SmallProductOnOneThread(int m, int n, int k)
      : saved_(static_cast<double>(m) * n * k < kThreadedGemmWork ? omp_get_max_threads() : 1) {
    if (saved_ > 1) omp_set_num_threads(1);
  }
  ~SmallProductOnOneThread() {
    if (saved_ > 1) omp_set_num_threads(saved_);
  }

 private:
  int saved_;
};

void gemm(char transa, char transb, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  SmallProductOnOneThread guard(m, n, k);
  sgemm_(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

void gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc) {
  SmallProductOnOneThread guard(m, n, k);
  dgemm_(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

void gemv(char trans, int m, int n, float alpha, const float* a, int lda, const float* x,
          int incx, float beta, float* y, int incy) {
  SmallProductOnOneThread guard(m, n, 1);
  sgemv_(&trans, &m, &n, &alpha, a, &lda, x, &incx, &beta, y, &incy);
}

void gemv(char trans, int m, int n, double alpha, const double* a, int lda, const double* x,
          int incx, double beta, double* y, int incy) {
  SmallProductOnOneThread guard(m, n, 1);
  dgemv_(&trans, &m, &n, &alpha, a, &lda, x, &incx, &beta, y, &incy);
}

// A row-major [r, c] matrix is the column-major [c, r] matrix of its
// transpose, so each product below is written for the transposes.

// Layers with at most this many outputs (a 2-D flow's last) are multiplied
// as matrix-vector products.
constexpr int kFewOutputs = 4;

// y[N, out] = b[out] + x[N, in] w[out, in]^T, y's rows ldy apart (y may be
// a block of columns of a wider matrix, w and b then its rows): the rows
// start as the bias and the product accumulates onto them (beta = 1), so BLAS
// does not zero y first (a pass of its own) and no pass adds the bias after.
template <typename T>
void biased_product(const T* x, const T* w, const T* b, T* y, int N, int in, int out,
                    int ldy) {
  if (N == 0) return;
  if (ldy == out) {
    // One row, then the filled rows doubled: a few large copies, where a copy
    // per row (a memmove call per 64 values) was 8% of sampling.
    std::copy(b, b + out, y);
    for (int64_t filled = 1; filled < N; filled *= 2)
      std::copy(y, y + std::min<int64_t>(filled, N - filled) * out, y + filled * out);
  } else {
    for (int64_t r = 0; r < N; ++r) std::copy(b, b + out, y + r * ldy);
  }
  if (out <= kFewOutputs) {
    // A matrix-vector product per output: gemm would pack all of x (a
    // block's [1024, 64] activations) to make 2 values a row.
    for (int o = 0; o < out; ++o) gemv('T', in, N, T(1), x, in, w + o * in, 1, T(1), y + o, ldy);
    return;
  }
  gemm('T', 'N', out, N, in, T(1), w, in, x, in, T(1), y, ldy);
}

// grad_x[N, cols] = g[N, out] w[out, cols], w's and grad_x's rows ld apart.
template <typename T>
void linear_grad_input(const T* g, const T* w, T* grad_x, int N, int cols, int out, int ld) {
  gemm('N', 'N', cols, N, out, T(1), w, ld, g, out, T(0), grad_x, ld);
}

// sums[j] = the sum over rows of g[:, j], for columns [first, last).  Threads
// take column ranges, each summing its columns over every row (the same
// additions in the same order as one thread: the result does not depend on
// the thread count), on __restrict pointers, so that the loop vectorises.
template <typename T>
void column_sums_range(const T* __restrict g, T* __restrict sums, int64_t N, int64_t out,
                       int64_t first, int64_t last) {
  for (int64_t j = first; j < last; ++j) sums[j] = 0;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = first; j < last; ++j) sums[j] += g[i * out + j];
}

// The loops below take __restrict pointers and no branches so that the
// compiler vectorises them (a branchy ReLU mispredicts on half the elements).
template <typename T>
void relu(T* __restrict h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = h[i] > T(0) ? h[i] : T(0);
}

template <typename T>
void relu_backward(const T* __restrict h, T* __restrict g, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];  // loaded unconditionally: a select, not a branch
    g[i] = h[i] > T(0) ? gi : T(0);
  }
}

template <typename T>
void tanh_backward(const T* __restrict h, T* __restrict g, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] *= 1 - h[i] * h[i];
}

// g *= activation'(pre-activation) over n values, written with the activated
// output h.
template <typename T>
void activation_backward(KernelActivation activation, const T* h, T* g, int64_t n) {
  if (activation == KernelActivation::kRelu)
    relu_backward(h, g, n);
  else
    tanh_backward(h, g, n);
}

// y = activation(y) over n values (a hidden layer's output).
template <typename T>
void activate(T* __restrict y, int64_t n, KernelActivation activation) {
  if (activation == KernelActivation::kRelu)
    relu(y, n);
  else
    for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(y[i]);
}

// Inference: rows in blocks small enough that a block's activations stay in
// cache (1024 rows measured best), no tape.  Blocks are independent, so
// threads take whole blocks, each with its own two scratch buffers, and every
// product runs on the thread that owns its block (OpenBLAS does not thread
// inside a parallel region).  Layers of few inputs run as register tiles
// (tiled_layer.h) where the CPU has the vector instructions, the others as
// BLAS products with the activation after.
template <typename T>
void forward_blocked(const std::vector<const T*>& weights, const std::vector<const T*>& biases,
                     const std::vector<int>& widths, KernelActivation activation, const T* x,
                     T* out, int64_t N, VectorIsa isa) {
  const size_t L = weights.size();
  std::vector<std::optional<TiledWeights<T>>> tiled(L);
  for (size_t l = 0; l < L; ++l)
    if (isa != VectorIsa::kNone && tiled_layer_pays(widths[l], widths[l + 1]))
      tiled[l] = tiled_weights(weights[l], biases[l], widths[l], widths[l + 1]);
  const int widest = *std::max_element(widths.begin() + 1, widths.end());
  const int64_t block = 1024, blocks = (N + block - 1) / block;
  // Each thread takes the next block when it finishes one, not a fixed half:
  // the pool's second thread starts later than the caller, and with fixed
  // shares the caller waited for it at the join (5-11% of its time).
  std::atomic<int64_t> next_block{0};
  const int64_t threads = std::min<int64_t>(at::get_num_threads(), blocks);
  parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    std::vector<T> scratch(2 * block * widest);
    for (int64_t b; (b = next_block.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
      const int64_t r0 = b * block;
      const int rows = static_cast<int>(std::min(block, N - r0));
      const T* h = x + r0 * widths[0];
      for (size_t l = 0; l < L; ++l) {
        const int in = widths[l], width = widths[l + 1];
        const bool hidden = l + 1 < L;
        T* y = hidden ? scratch.data() + (l % 2) * block * widest : out + r0 * width;
        const bool relu_in_tile = tiled[l] && hidden && activation == KernelActivation::kRelu;
        if (tiled[l])
          tiled_layer(*tiled[l], h, y, rows, relu_in_tile, isa);
        else
          biased_product(h, weights[l], biases[l], y, rows, in, width, width);
        if (hidden && !relu_in_tile) activate(y, static_cast<int64_t>(rows) * width, activation);
        h = y;
      }
    }
  });
}

int dim(const torch::Tensor& t, int64_t i) { return static_cast<int>(t.size(i)); }

template <typename T>
void multiply_range(const T* a, const T* b, T* out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] * b[i];  // out may be a
}

template <typename T>
void multiply(const T* a, const T* b, T* out, int64_t n) {
  parallel_for(0, n, 1 << 16,
               [&](int64_t begin, int64_t end) { multiply_range(a, b, out, begin, end); });
}

// out = a * b elementwise (out may be a), as a plain loop where both are
// contiguous and of one shape and dtype: MADE masks every weight and weight
// gradient at every step, and at these sizes an operator's dispatch costs
// more than its arithmetic.
void masked(const torch::Tensor& a, const torch::Tensor& b, torch::Tensor out) {
  if (!a.is_contiguous() || !b.is_contiguous() || !out.is_contiguous() ||
      !a.sizes().equals(b.sizes()) || b.scalar_type() != a.scalar_type()) {
    at::mul_out(out, a, b);
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "masked", [&] {
    multiply(a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), a.numel());
  });
}

// MADE's connectivity of layer l from its degrees (DenseLayers::degrees):
// row o of the weight sees column i when out[o] >= in[i] (> when strict).
struct Connectivity {
  const float* in;
  const float* out;
  bool strict;
};

Connectivity connectivity_of(const DenseLayers& layers, size_t l) {
  return {layers.degrees[l].data_ptr<float>(), layers.degrees[l + 1].data_ptr<float>(),
          l + 2 == layers.degrees.size()};
}

template <bool Strict>
inline bool connected(float out_degree, float in_degree) {
  return Strict ? out_degree > in_degree : out_degree >= in_degree;
}

// Whether rows [first, last) of w [out, in] are zero wherever not connected.
// Branch-free (an OR over the row), so it vectorises.
template <bool Strict, typename T>
bool zero_outside_rows(const T* __restrict w, const float* __restrict in_degrees,
                       const float* __restrict out_degrees, int64_t in, int64_t first,
                       int64_t last) {
  int stray = 0;
  for (int64_t o = first; o < last; ++o) {
    const float d = out_degrees[o];
    const T* row = w + o * in;
    for (int64_t i = 0; i < in; ++i)
      stray |= static_cast<int>(!connected<Strict>(d, in_degrees[i])) &
               static_cast<int>(row[i] != T(0));
  }
  return stray == 0;
}

// row[i] = 0 where input i is not connected to a unit of degree d.  Loaded
// unconditionally and selected, through a __restrict row, so that it
// vectorises (the branchy form was ~8% of an image-MAF step).
template <bool Strict, typename T>
void mask_row(T* __restrict row, const float* __restrict in_degrees, float d, int64_t in) {
  for (int64_t i = 0; i < in; ++i) {
    const T v = row[i];
    row[i] = connected<Strict>(d, in_degrees[i]) ? v : T(0);
  }
}

// Zeroes what is not connected in rows [first, last), columns [c0, c1) of
// m [out, in].
template <typename T>
void mask_block(T* m, const Connectivity& c, int64_t in, int64_t first, int64_t last, int64_t c0,
                int64_t c1) {
  for (int64_t o = first; o < last; ++o) {
    if (c.strict)
      mask_row<true>(m + o * in + c0, c.in + c0, c.out[o], c1 - c0);
    else
      mask_row<false>(m + o * in + c0, c.in + c0, c.out[o], c1 - c0);
  }
}

// Rows per task of the two passes above: a few hundred thousand elements.
int64_t rows_per_task(int64_t in) { return std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(in, 1)); }

template <typename T>
bool zero_outside_degrees(const T* w, const Connectivity& c, int64_t out, int64_t in) {
  std::atomic<bool> clean{true};
  parallel_for(0, out, rows_per_task(in), [&](int64_t first, int64_t last) {
    const bool rows_clean = c.strict ? zero_outside_rows<true>(w, c.in, c.out, in, first, last)
                                     : zero_outside_rows<false>(w, c.in, c.out, in, first, last);
    if (!rows_clean) clean = false;
  });
  return clean;
}

template <typename T>
void mask_by_degrees(const T* w, T* result, const Connectivity& c, int64_t out, int64_t in) {
  parallel_for(0, out, rows_per_task(in), [&](int64_t first, int64_t last) {
    std::copy(w + first * in, w + last * in, result + first * in);
    mask_block(result, c, in, first, last, 0, in);
  });
}

// Each layer's forward pass is one parallel region, and so is its backward
// pass: the threads split the products themselves (BLAS runs single-threaded
// inside a region) and each does the passes around its share, the bias, the
// activation, the bias gradient and the activation's backward, on the part of
// the output it made.  Letting BLAS thread the products and running those
// passes as regions (or serial code) of their own left one thread waiting at
// every join: a third of a (1024, 256) training step on 2 threads.

// The work a thread's share should have at least, in multiply-adds: below
// it, the fork and join on libgomp's spinning pool cost more than the share
// saves (splitting the (128, 64) steps' products made them slower).
constexpr double kTaskWork = 1 << 21;

// The work of a product [m, k] x [k, n] in multiply-adds, each element read
// or written (packed, given a bias, activated) counted as kElementWork: a
// layer with 256 inputs and 2 outputs multiplies little, but over 1024 rows
// it reads 1 MB, and one with 1 input and 256 outputs writes 1 MB.
constexpr double kElementWork = 32;

double product_work(double m, double k, double n) {
  return m * k * n + kElementWork * (m * k + k * n + m * n);
}

// How many threads share `work` multiply-adds.
int64_t tasks_for(double work) {
  const auto wanted = static_cast<int64_t>(work / kTaskWork);
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), wanted));
}

// Share t of `tasks` of a [rows, cols] output: a range of its rows, or of its
// columns.  Splitting rows, each thread reads all of the operand that makes
// the columns, and the other way round; `by_rows` picks the split that reads
// less twice.
struct Share {
  int64_t r0, r1, c0, c1;
  int rows() const { return static_cast<int>(r1 - r0); }
  int cols() const { return static_cast<int>(c1 - c0); }
};

Share share_of(int64_t rows, int64_t cols, bool by_rows, int64_t t, int64_t tasks) {
  const int64_t n = by_rows ? rows : cols;
  const int64_t lo = n * t / tasks, hi = n * (t + 1) / tasks;
  return by_rows ? Share{lo, hi, 0, cols} : Share{0, rows, lo, hi};
}

// Calls f(offset, n) over the values of a [rows, cols] block whose rows lie
// ld apart: once for the whole block when its rows are contiguous (a share of
// rows), else once per row (a share of columns).
template <typename F>
void for_each_run(int64_t rows, int64_t cols, int64_t ld, const F& f) {
  if (cols == ld) {
    f(0, rows * cols);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) f(r * ld, cols);
}

// Calls f(t) for each share t of `tasks`, in parallel.
template <typename F>
void for_each_share(int64_t tasks, const F& f) {
  parallel_for(0, tasks, 1, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) f(t);
  });
}

// y[N, out] = activation(b + x w^T) (no activation when null).  Split by rows
// unless the weight is the larger operand (few rows: the image MAF's 64).
template <typename T>
void layer_forward(const T* x, const T* w, const T* b, T* y, int N, int in, int out,
                   const KernelActivation* activation) {
  const int64_t tasks = tasks_for(product_work(N, in, out));
  const bool by_rows = out <= N;
  for_each_share(tasks, [&](int64_t t) {
    const Share s = share_of(N, out, by_rows, t, tasks);
    T* block = y + s.r0 * out + s.c0;
    biased_product(x + s.r0 * in, w + s.c0 * in, b + s.c0, block, s.rows(), in, s.cols(), out);
    if (!activation) return;
    for_each_run(s.rows(), s.cols(), out,
                 [&](int64_t offset, int64_t n) { activate(block + offset, n, *activation); });
  });
}

// Where a layer's backward pass writes: the weight and bias gradients, and
// the input gradient (null when not needed).
template <typename T>
struct LayerGradients {
  T* weight;
  T* bias;
  T* input;
};

// grad_w[rows, cols of s] = g^T x, masked by the degrees when given, in
// blocks of rows_per_task rows (256 KB of floats, which stay in L2).  BLAS
// zeroes its output (beta = 0) before accumulating into it, and the masking
// reads and writes it again: over MADE's large weights at once (the image
// MAF's 12 M) those were three passes through memory.
template <typename T>
void weight_gradient_share(const T* g, const T* x, T* grad_w, int N, int in, int out,
                           const Share& s, const Connectivity* degrees) {
  const int64_t rows = rows_per_task(in);
  for (int64_t o = s.r0; o < s.r1; o += rows) {
    const int64_t end = std::min(o + rows, s.r1);
    gemm('N', 'T', s.cols(), static_cast<int>(end - o), N, T(1), x + s.c0, in, g + o, out, T(0),
         grad_w + o * in + s.c0, in);
    if (degrees) mask_block(grad_w, *degrees, in, o, end, s.c0, s.c1);
  }
}

// The gradients of y = b + x w^T given g = dL/dy [N, out]: the weight's and
// the bias's, and x's when grads.input is set, multiplied by the derivative
// of the activation that made x (when given; x is then its output).
template <typename T>
void layer_backward(const T* g, const T* x, const T* w, const LayerGradients<T>& grads, int N,
                    int in, int out, const KernelActivation* activation,
                    const Connectivity* degrees) {
  const double work = product_work(out, N, in) + (grads.input ? product_work(N, out, in) : 0);
  const int64_t tasks = tasks_for(work);
  const bool weight_by_rows = in <= out, input_by_rows = in <= N;
  for_each_share(tasks, [&](int64_t t) {
    const Share sw = share_of(out, in, weight_by_rows, t, tasks);
    weight_gradient_share(g, x, grads.weight, N, in, out, sw, degrees);
    // The bias gradient's columns are the weight gradient's rows.
    if (weight_by_rows)
      column_sums_range(g, grads.bias, N, out, sw.r0, sw.r1);
    else if (t == 0)
      column_sums_range(g, grads.bias, N, out, 0, out);
    if (!grads.input) return;
    const Share si = share_of(N, in, input_by_rows, t, tasks);
    T* block = grads.input + si.r0 * in + si.c0;
    linear_grad_input(g + si.r0 * out, w + si.c0, block, si.rows(), si.cols(), out, in);
    if (!activation) return;
    const T* h = x + si.r0 * in + si.c0;
    for_each_run(si.rows(), si.cols(), in, [&](int64_t offset, int64_t n) {
      activation_backward(*activation, h + offset, block + offset, n);
    });
  });
}

// Layer l's weight masked by its degrees: the weight itself when already zero
// outside them (no copy), else a masked copy.
torch::Tensor weight_masked_by_degrees(const DenseLayers& layers, size_t l) {
  auto w = layers.weights[l].contiguous();
  const auto c = connectivity_of(layers, l);
  const int64_t out = w.size(0), in = w.size(1);
  torch::Tensor result = w;
  AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "weight_masked_by_degrees", [&] {
    const scalar_t* data = w.data_ptr<scalar_t>();
    if (zero_outside_degrees(data, c, out, in)) return;
    result = torch::empty_like(w);
    mask_by_degrees(data, result.data_ptr<scalar_t>(), c, out, in);
  });
  return result;
}

// Layer l's weight as the products use it: masked (MADE) and contiguous.
torch::Tensor effective_weight(const DenseLayers& layers, size_t l) {
  const auto& w = layers.weights[l];
  if (!layers.degrees.empty()) return weight_masked_by_degrees(layers, l);
  if (layers.masks.empty()) return w.contiguous();
  auto product = torch::empty(w.sizes(), w.options());
  masked(w, layers.masks[l], product);
  return product;
}

}  // namespace

std::optional<KernelActivation> kernel_activation(const std::string& name) {
  if (name == "relu") return KernelActivation::kRelu;
  if (name == "tanh") return KernelActivation::kTanh;
  return std::nullopt;
}

// Without a tape: the blocked inference path.
torch::Tensor dense_forward_untaped(const DenseLayers& layers, const torch::Tensor& x) {
  std::vector<torch::Tensor> weights;
  std::vector<int> widths{dim(x, 1)};
  for (size_t l = 0; l < layers.weights.size(); ++l) {
    weights.push_back(effective_weight(layers, l));
    widths.push_back(dim(weights.back(), 0));
  }
  std::vector<torch::Tensor> biases;
  for (const auto& b : layers.biases) biases.push_back(b.contiguous());
  auto out = torch::empty({x.size(0), widths.back()}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dense_forward", [&] {
    std::vector<const scalar_t*> w, b;
    for (const auto& t : weights) w.push_back(t.data_ptr<scalar_t>());
    for (const auto& t : biases) b.push_back(t.data_ptr<scalar_t>());
    forward_blocked(w, b, widths, layers.activation, x.data_ptr<scalar_t>(),
                    out.data_ptr<scalar_t>(), x.size(0), vector_isa());
  });
  return out;
}

torch::Tensor dense_forward(const DenseLayers& layers, const torch::Tensor& x, DenseTape* tape) {
  if (!tape) return dense_forward_untaped(layers, x);
  const size_t L = layers.weights.size();
  const int N = dim(x, 0);
  torch::Tensor h = x;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dense_forward", [&] {
    for (size_t l = 0; l < L; ++l) {
      auto w = effective_weight(layers, l);
      auto b = layers.biases[l].contiguous();
      const int out = dim(w, 0), in = dim(w, 1);
      const bool hidden = l + 1 < L;
      auto y = torch::empty({N, out}, x.options());
      layer_forward(h.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                    y.data_ptr<scalar_t>(), N, in, out,
                    hidden ? &layers.activation : nullptr);
      if (hidden) tape->hidden.push_back(y);
      tape->weights.push_back(w);
      h = y;
    }
  });
  return h;
}

torch::Tensor dense_backward(const DenseLayers& layers, const torch::Tensor& x,
                             const DenseTape& tape, const torch::Tensor& grad_out,
                             std::vector<torch::Tensor>& grad_weights,
                             std::vector<torch::Tensor>& grad_biases, bool need_grad_x) {
  const size_t L = tape.weights.size();
  const int N = dim(x, 0);
  grad_weights.assign(L, {});
  grad_biases.assign(L, {});
  torch::Tensor g = grad_out.contiguous(), grad_x;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dense_backward", [&] {
    for (size_t l = L; l-- > 0;) {
      const auto& w = tape.weights[l];
      const int out = dim(w, 0), in = dim(w, 1);
      const auto& input = l == 0 ? x : tape.hidden[l - 1];
      auto gw = torch::empty({out, in}, x.options());
      auto gb = torch::empty({out}, x.options());
      std::optional<Connectivity> degrees;
      if (!layers.degrees.empty()) degrees = connectivity_of(layers, l);
      const bool need_gi = l > 0 || need_grad_x;
      torch::Tensor gi = need_gi ? torch::empty({N, in}, x.options()) : torch::Tensor();
      LayerGradients<scalar_t> grads{gw.data_ptr<scalar_t>(), gb.data_ptr<scalar_t>(),
                                     need_gi ? gi.data_ptr<scalar_t>() : nullptr};
      layer_backward(g.data_ptr<scalar_t>(), input.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                     grads, N, in, out, l > 0 ? &layers.activation : nullptr,
                     degrees ? &*degrees : nullptr);
      if (layers.degrees.empty() && !layers.masks.empty()) masked(gw, layers.masks[l], gw);
      grad_weights[l] = gw;
      grad_biases[l] = gb;
      if (!need_gi) break;
      if (l == 0) grad_x = gi;
      g = gi;
    }
  });
  return grad_x;
}

}  // namespace diffeo::nn
