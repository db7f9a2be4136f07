#pragma once
// Input validation shared by every public entry point.  Each check throws a
// diffeo::Error whose message starts with `where` (e.g. "Rotation2D") and names
// the argument, the expected and the received value.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace diffeo {

/// "[2, 3]" for a shape, as printed in error messages.
std::string shape_string(torch::IntArrayRef shape);

/// A number as printed in error messages: shortest of %g style, e.g. "-1e-09", "0.5", "inf".
std::string number_string(double value);

/// 'text' in single quotes, as error messages name paths.
std::string quoted(const std::string& text);

/// The tensor must be defined (not a default-constructed torch::Tensor).
void check_defined(const torch::Tensor& t, const std::string& arg, const std::string& where);

/// The tensor must be defined and of a floating-point dtype.
void check_floating(const torch::Tensor& t, const std::string& arg, const std::string& where);

/// Every element must be finite (no NaN, no +-inf).
void check_finite(const torch::Tensor& t, const std::string& arg, const std::string& where);

/// The tensor must have at least `rank` dimensions and, when `event_shape` is
/// non-empty, its trailing dimensions must equal it.
void check_event_shape(const torch::Tensor& t, const std::string& arg, int64_t rank,
                       torch::IntArrayRef event_shape, const std::string& where);

/// Parameters of shape `param_shape` must broadcast into `t` without changing
/// t's shape (elementwise bijectors apply per coordinate).
void check_broadcasts_into(const torch::Tensor& t, const std::string& arg,
                           torch::IntArrayRef param_shape, const std::string& where);

/// The shape that `x` and per-element parameters `params` ([batch..., P]: P
/// values per element) broadcast to, i.e. infer_size(x, params without its
/// last dimension); diffeo::Error naming `where` and both shapes otherwise.
std::vector<int64_t> broadcast_with_parameters(const torch::Tensor& x, const torch::Tensor& params,
                                               const std::string& where);

/// `t` must share dtype and device with `reference` (a named parameter).
void check_same_dtype_device(const torch::Tensor& t, const std::string& arg,
                             const torch::Tensor& reference, const std::string& reference_name,
                             const std::string& where);

/// Checks `t` against every floating-point parameter and buffer that `module`
/// owns directly (not recursively: children check their own).
void check_matches_module(const torch::Tensor& t, const std::string& arg,
                          const torch::nn::Module& module, const std::string& where);

/// check_matches_module, plus, when `module` owns no floating-point tensor
/// itself (a Chain, an Inverse, a coupling layer whose weights live in its
/// conditioner, a whole flow), a check against the first one found depth first
/// among its descendants: a tensor of the wrong dtype or device is refused at
/// the entry point instead of failing inside LibTorch.  Cheap: the search
/// stops at the first floating-point tensor.
void check_matches_model(const torch::Tensor& t, const std::string& arg,
                         const torch::nn::Module& module, const std::string& where);

/// An optional context ([batch..., features]; undefined = none) for a call
/// whose input has dtype and device `like` (named `like_name` in messages,
/// e.g. "'x'" or "the model").  When given it must be a floating-point tensor
/// with a feature dimension, on like's dtype and device; when `features` > 0
/// it is required and must have exactly that many features.
void check_context_tensor(const torch::Tensor& context, int64_t features,
                          const torch::TensorOptions& like, const std::string& like_name,
                          const std::string& where);

/// A defined context's batch shape (all but its last dimension) must broadcast
/// to `batch`, the input's batch shape, as conditioners expand it.
void check_context_batch(const torch::Tensor& context, torch::IntArrayRef batch,
                         const std::string& where);

/// `value` must be positive, e.g. a sample count or a step count.
void check_positive(int64_t value, const std::string& arg, const std::string& where);

/// The name of a module's type without namespace and "Impl" suffix, e.g.
/// "Rotation2D" for diffeo::Rotation2DImpl; used as `where` in messages.
std::string type_name(const torch::nn::Module& module);

}  // namespace diffeo
