#pragma once
// Raw kernels for a stack of dense layers (Linear -> activation -> ... ->
// Linear) on row-major [N, features] matrices: BLAS for the products, plain
// loops for the rest, no autograd and no per-operator dispatch.  The fused
// flow layers build their forward and hand-written backward from these; at
// the batch sizes of small flows LibTorch's per-operator overhead, not the
// arithmetic, is what these remove.

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace diffeo::nn {

/// The activations the kernels implement (the others take the composite path).
enum class KernelActivation { kRelu, kTanh };

/// The kernel activation named `name` ("relu", "tanh"), or nullopt.
std::optional<KernelActivation> kernel_activation(const std::string& name);

/// The parameters of a dense stack as the kernels read them: weights[l] is
/// [out_l, in_l], biases[l] is [out_l]; masks, when not empty, hold one 0/1
/// tensor per weight, applied as weight * mask.  The activation follows every
/// layer but the last.
///
/// degrees, when not empty, give MADE's connectivity instead of masks: L + 1
/// CPU float vectors (the inputs' degrees, each hidden layer's, the outputs'),
/// unit o of layer l seeing input i when degrees[l + 1][o] >= degrees[l][i]
/// (> into the last layer).  The kernels then use a weight as it is when it is
/// already zero outside that pattern (MADE keeps it so: zero at the start, and
/// its masked gradients keep it there), checked in one pass that writes
/// nothing, where masking writes a copy; the gradients are masked in place.
struct DenseLayers {
  std::vector<torch::Tensor> weights, biases, masks;
  KernelActivation activation = KernelActivation::kRelu;
  std::vector<torch::Tensor> degrees;
};

/// What the forward pass keeps for the backward pass: the effective (masked)
/// weights and every hidden layer's activated output.  Where no masked copy
/// was needed these are the weights themselves, as autograd keeps a Linear's:
/// an optimizer step belongs after the backward pass, not between.
struct DenseTape {
  std::vector<torch::Tensor> weights;  // weight * mask, or the weights themselves
  std::vector<torch::Tensor> hidden;   // [N, out_l] after the activation, l < L - 1
};

/// The stack's output [N, out_L] for x [N, in_0] (contiguous, the weights'
/// dtype, float or double); fills `tape` when given.  Without a tape (no
/// backward to come) rows go through all layers in cache-sized blocks, in
/// parallel over blocks.
torch::Tensor dense_forward(const DenseLayers& layers, const torch::Tensor& x,
                            DenseTape* tape = nullptr);

/// Gradients of the stack given the output gradient `grad_out` [N, out_L]:
/// returns d/dx and fills grad_weights / grad_biases (one per layer, masked
/// like the weights).  `x` and `tape` are those of the forward pass.
torch::Tensor dense_backward(const DenseLayers& layers, const torch::Tensor& x,
                             const DenseTape& tape, const torch::Tensor& grad_out,
                             std::vector<torch::Tensor>& grad_weights,
                             std::vector<torch::Tensor>& grad_biases, bool need_grad_x = true);

}  // namespace diffeo::nn
