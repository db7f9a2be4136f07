#pragma once
// Checks for the fused flow layers (fused_affine.h, fused_spline.h): a flow's
// numbers and gradients with fusion on against the composite path, whether
// the fused node is in the autograd graph, and a fused node's backward
// against central differences on random conditioners of several layouts.

#include <diffeo/bijectors/fused_layer.h>
#include <diffeo/flows/flow.h>
#include <diffeo/nn/dense_kernels.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace diffeo::testing {

/// flows::build(name, options) in float64 with every parameter drawn from
/// normal(0, stddev), so that the transforms are far from the identity.
flows::Flow random_flow(const std::string& name, const flows::FlowOptions& options, double stddev,
                        uint64_t seed = 3);

/// Whether the autograd graph of `root` holds a node whose name contains `node`.
bool uses_node(const torch::Tensor& root, const std::string& node);

/// A scalar and its gradients: of the input, then of every flow parameter.
struct Evaluation {
  torch::Tensor value;
  std::vector<torch::Tensor> gradients;
};

/// `scalar(x)` for x = `input` and its gradients, with the fused kernels on or
/// off; expects the graph to hold the node named `node` exactly when fused.
Evaluation evaluate(flows::Flow& flow, const torch::Tensor& input, bool fused,
                    const std::string& node,
                    const std::function<torch::Tensor(const torch::Tensor&)>& scalar);

/// The values agree to 1e-12 relative, the gradients to 1e-10 (+ 1e-12 absolute).
void expect_same(const Evaluation& fused, const Evaluation& composite);

/// Fused against composite: a randomly weighted sum of flow->log_prob(y)
/// (density direction), or of the bijector's forward output plus its log-det
/// at z (sampling direction), and their gradients; `node` must be in the graph.
void expect_log_prob_matches_composite(flows::Flow& flow, const torch::Tensor& y,
                                       const std::string& node);
void expect_sampling_direction_matches_composite(flows::Flow& flow, const torch::Tensor& z,
                                                 const std::string& node);

/// The layout of a random fused node: D features of which the first `split`
/// pass through (0: an autoregressive layer), a context of the given width,
/// or a separate conditioner input of the given width; MADE-style random 0/1
/// masks when `masked`.
struct FusedLayout {
  int64_t features, split, context, separate_input;
  bool masked;
};

/// The three layouts the finite-difference tests use: a coupling with a
/// context, a masked autoregressive layer and a separate conditioner input.
std::vector<FusedLayout> fused_layouts();

/// A random float64 dense conditioner (tanh, one hidden layer of 7) giving P
/// values per transformed feature, and random inputs (x scaled by
/// `x_scale`), all requiring gradients; `wrt` lists x, the context or
/// conditioner input when present, the weights and the biases.
struct FusedCase {
  nn::DenseLayers layers;
  ConditionedInputs inputs;
  std::vector<torch::Tensor> wrt;
};
FusedCase random_fused_case(const FusedLayout& layout, int64_t params_per_feature, int64_t rows,
                            double x_scale = 1);

/// The conditioner's output for `c` computed with LibTorch operators (so
/// autograd records it): the composite reference for a fused node.
torch::Tensor composite_conditioner(const FusedCase& c);

/// A printable name for a layout (in failure messages).
std::string describe(const FusedLayout& layout);

/// The autograd gradients of `loss()` with respect to every tensor in `wrt`
/// against central differences (step 1e-6) to 1e-6 relative + 1e-7 absolute.
void expect_gradients_match_finite_differences(const std::function<torch::Tensor()>& loss,
                                               const std::vector<torch::Tensor>& wrt,
                                               const std::string& what);

}  // namespace diffeo::testing
