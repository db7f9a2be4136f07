#include "diffeo/core/checks.h"

#include <iomanip>
#include <sstream>

#include "diffeo/core/error.h"

namespace diffeo {

std::string shape_string(torch::IntArrayRef shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

std::string number_string(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// "float32", "int64", ...: the names users write in code and see in PyTorch.
static std::string dtype_name(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat:
      return "float32";
    case torch::kDouble:
      return "float64";
    case torch::kHalf:
      return "float16";
    case torch::kBFloat16:
      return "bfloat16";
    case torch::kLong:
      return "int64";
    case torch::kInt:
      return "int32";
    case torch::kBool:
      return "bool";
    default:
      return c10::toString(type);
  }
}

static std::string describe(const torch::Tensor& t) {
  return "dtype " + dtype_name(t.scalar_type()) + " on " + t.device().str();
}

void check_defined(const torch::Tensor& t, const std::string& arg, const std::string& where) {
  if (!t.defined())
    throw Error(where + ": argument '" + arg + "' is an undefined tensor; pass a tensor with data");
}

void check_floating(const torch::Tensor& t, const std::string& arg, const std::string& where) {
  check_defined(t, arg, where);
  if (!t.is_floating_point())
    throw Error(where + ": argument '" + arg +
                "' must be a floating-point tensor (float32 or float64), got " + describe(t) +
                "; convert it with .to(torch::kFloat)");
}

void check_finite(const torch::Tensor& t, const std::string& arg, const std::string& where) {
  check_floating(t, arg, where);
  const auto bad = (~torch::isfinite(t)).sum().item<int64_t>();
  if (bad > 0)
    throw Error(where + ": argument '" + arg + "' must be finite, but " + std::to_string(bad) +
                " of its " + std::to_string(t.numel()) + " values are NaN or infinite");
}

void check_event_shape(const torch::Tensor& t, const std::string& arg, int64_t rank,
                       torch::IntArrayRef event_shape, const std::string& where) {
  check_floating(t, arg, where);
  if (t.dim() < rank)
    throw Error(where + ": argument '" + arg + "' needs at least " + std::to_string(rank) +
                " dimension(s) for its event, got shape " + shape_string(t.sizes()));
  if (event_shape.empty()) return;
  const auto trailing = t.sizes().slice(t.dim() - rank);
  if (trailing != event_shape) {
    std::string what = rank == 1 ? "event size " + std::to_string(event_shape[0])
                                 : "event shape " + shape_string(event_shape);
    std::string got = rank == 1 ? "event size " + std::to_string(trailing[0])
                                : "event shape " + shape_string(trailing);
    throw Error(where + ": argument '" + arg + "' has " + got + " (shape " +
                shape_string(t.sizes()) + ") but " + what + " is expected");
  }
}

void check_broadcasts_into(const torch::Tensor& t, const std::string& arg,
                           torch::IntArrayRef param_shape, const std::string& where) {
  bool ok = static_cast<int64_t>(param_shape.size()) <= t.dim();
  for (size_t i = 1; ok && i <= param_shape.size(); ++i) {
    const auto p = param_shape[param_shape.size() - i];
    ok = p == 1 || p == t.size(t.dim() - static_cast<int64_t>(i));
  }
  if (!ok)
    throw Error(where + ": argument '" + arg + "' of shape " + shape_string(t.sizes()) +
                " does not match the parameter shape " + shape_string(param_shape) +
                " (the trailing dimensions must equal it or be broadcast from 1)");
}

std::vector<int64_t> broadcast_with_parameters(const torch::Tensor& x, const torch::Tensor& params,
                                               const std::string& where) {
  const auto batch = params.sizes().slice(0, params.dim() - 1);
  try {
    return at::infer_size(x.sizes(), batch);
  } catch (const c10::Error&) {
    throw Error(where + ": argument 'params' of shape " + shape_string(params.sizes()) +
                " does not broadcast with the input of shape " + shape_string(x.sizes()) +
                " (its leading dimensions " + shape_string(batch) +
                " must broadcast with the input's shape)");
  }
}

void check_same_dtype_device(const torch::Tensor& t, const std::string& arg,
                             const torch::Tensor& reference, const std::string& reference_name,
                             const std::string& where) {
  if (t.dtype() != reference.dtype() || t.device() != reference.device())
    throw Error(where + ": argument '" + arg + "' has " + describe(t) + " but '" + reference_name +
                "' has " + describe(reference) + "; move one of them with .to(...)");
}

// These checks run on every call of every layer, so they walk parameters()
// and buffers() (plain vectors); the names (named_parameters() copies a dict
// with its keys) are looked up only to word an error.
static bool same_dtype_device(const torch::Tensor& a, const torch::Tensor& b) {
  return a.dtype() == b.dtype() && a.device() == b.device();
}

// The dotted name of `t`, a parameter or buffer of `module` or its descendants.
static std::string name_in(const torch::nn::Module& module, const torch::Tensor& t) {
  for (const auto& p : module.named_parameters())
    if (p.value().is_same(t)) return p.key();
  for (const auto& b : module.named_buffers())
    if (b.value().is_same(t)) return b.key();
  return "a parameter";
}

void check_matches_module(const torch::Tensor& t, const std::string& arg,
                          const torch::nn::Module& module, const std::string& where) {
  for (const auto& values : {module.parameters(/*recurse=*/false), module.buffers(false)})
    for (const auto& v : values)
      if (v.is_floating_point() && !same_dtype_device(t, v))
        check_same_dtype_device(t, arg, v, name_in(module, v), where);
}

// The first floating-point parameter or buffer of `module` or its descendants,
// depth first; undefined when there is none.
static torch::Tensor first_floating(const torch::nn::Module& module) {
  for (const auto& values : {module.parameters(/*recurse=*/false), module.buffers(false)})
    for (const auto& v : values)
      if (v.is_floating_point()) return v;
  for (const auto& child : module.children())
    if (auto found = first_floating(*child); found.defined()) return found;
  return {};
}

void check_matches_model(const torch::Tensor& t, const std::string& arg,
                         const torch::nn::Module& module, const std::string& where) {
  if (const auto first = first_floating(module); first.defined() && !same_dtype_device(t, first))
    check_same_dtype_device(t, arg, first, name_in(module, first), where);
  check_matches_module(t, arg, module, where);
}

void check_context_tensor(const torch::Tensor& context, int64_t features,
                          const torch::TensorOptions& like, const std::string& like_name,
                          const std::string& where) {
  if (!context.defined()) {
    if (features > 0)
      throw Error(where + ": argument 'context' is required: it was built for a context of width " +
                  std::to_string(features) + ", but none was given");
    return;
  }
  check_floating(context, "context", where);
  if (context.dim() == 0)
    throw Error(where +
                ": argument 'context' must have a feature dimension "
                "([batch..., features]), got a 0-dim tensor");
  if (context.scalar_type() != c10::typeMetaToScalarType(like.dtype()) ||
      context.device() != like.device())
    throw Error(where + ": argument 'context' has " + describe(context) + " but " + like_name +
                " has dtype " + dtype_name(c10::typeMetaToScalarType(like.dtype())) + " on " +
                like.device().str() + "; move one of them with .to(...)");
  if (features > 0 && context.size(-1) != features)
    throw Error(where + ": argument 'context' of shape " + shape_string(context.sizes()) +
                " should have " + std::to_string(features) + " features");
}

void check_context_batch(const torch::Tensor& context, torch::IntArrayRef batch,
                         const std::string& where) {
  const auto context_batch = context.sizes().slice(0, context.dim() - 1);
  bool ok = context_batch.size() <= batch.size();
  for (size_t i = 1; ok && i <= context_batch.size(); ++i) {
    const auto c = context_batch[context_batch.size() - i];
    ok = c == 1 || c == batch[batch.size() - i];
  }
  if (!ok)
    throw Error(where + ": argument 'context' of shape " + shape_string(context.sizes()) +
                " does not match the input's batch shape " + shape_string(batch) +
                " (expected [batch..., features])");
}

void check_positive(int64_t value, const std::string& arg, const std::string& where) {
  if (value <= 0)
    throw Error(where + ": argument '" + arg + "' must be positive, got " + std::to_string(value));
}

std::string type_name(const torch::nn::Module& module) {
  std::string name = module.name();
  const auto colon = name.rfind("::");
  if (colon != std::string::npos) name = name.substr(colon + 2);
  const std::string impl = "Impl";
  if (name.size() > impl.size() && name.compare(name.size() - impl.size(), impl.size(), impl) == 0)
    name.resize(name.size() - impl.size());
  return name;
}

}  // namespace diffeo
