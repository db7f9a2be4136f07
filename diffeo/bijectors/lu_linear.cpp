#include "diffeo/bijectors/lu_linear.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

namespace {

struct Factors {
  torch::Tensor permutation, lower, upper, log_diag, sign;
};

// The LU factors of W at initialisation, computed in float64.
Factors initial_factors(const LULinearOptions& options) {
  const auto dim = options.dim();
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  if (options.identity_init())
    return {torch::arange(dim, torch::kLong), torch::zeros({dim, dim}, f64),
            torch::zeros({dim, dim}, f64), torch::zeros({dim}, f64), torch::ones({dim}, f64)};
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  auto orthogonal = std::get<0>(torch::linalg_qr(torch::randn({dim, dim}, generator, f64)));
  torch::Tensor p, l, u;
  std::tie(p, l, u) = torch::linalg_lu(orthogonal);  // orthogonal = p l u, pivots nonzero
  auto diagonal = u.diagonal();
  // p is a permutation matrix: (p v)[i] = v[j] where p[i][j] == 1.
  return {p.argmax(/*dim=*/1), l.tril(-1), u.triu(1), diagonal.abs().log(), diagonal.sign()};
}

}  // namespace

LULinearImpl::LULinearImpl(LULinearOptions options)
    : BijectorImpl(/*event_rank=*/1), options_(options) {
  check_positive(options.dim(), "dim", "LULinear");
  const auto dtype = torch::typeMetaToScalarType(torch::get_default_dtype());
  auto factors = initial_factors(options);
  lower_ = register_parameter("lower", factors.lower.to(dtype));
  upper_ = register_parameter("upper", factors.upper.to(dtype));
  log_diag_ = register_parameter("log_diag", factors.log_diag.to(dtype));
  sign_ = register_buffer("sign", factors.sign.to(dtype));
  permutation_ = register_buffer("permutation", factors.permutation);
  inverse_permutation_ =
      register_buffer("inverse_permutation", torch::argsort(factors.permutation));
  if (options.bias()) bias_ = register_parameter("bias", torch::zeros({options.dim()}, dtype));
  set_event_shape({options.dim()});
}

torch::Tensor LULinearImpl::unit_lower() const {
  return lower_.tril(-1) + torch::eye(options_.dim(), lower_.options());
}

torch::Tensor LULinearImpl::upper_with_diagonal() const {
  return upper_.triu(1) + torch::diag(sign_ * torch::exp(log_diag_));
}

torch::Tensor LULinearImpl::weight() const {
  return torch::matmul(unit_lower(), upper_with_diagonal())
      .index_select(0, as_index(permutation_, log_diag_));
}

Result LULinearImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto log_det = log_diag_.sum().expand(x.sizes().slice(0, x.dim() - 1));
  return {torch::linear(x, weight(), bias_), log_det};
}

// x = U^-1 L^-1 P^-1 (y - b).  Rows are vectors, so L a = z is solved as a L^T = z
// and U x = a as x U^T = a (left = false).
Result LULinearImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto centred = bias_.defined() ? y - bias_ : y;
  auto rows = centred.index_select(-1, as_index(inverse_permutation_, y)).reshape({-1, y.size(-1)});
  auto a = torch::linalg_solve_triangular(unit_lower().t(), rows, /*upper=*/true, /*left=*/false,
                                          /*unitriangular=*/true);
  auto x = torch::linalg_solve_triangular(upper_with_diagonal().t(), a, /*upper=*/false,
                                          /*left=*/false);
  auto log_det = (-log_diag_.sum()).expand(y.sizes().slice(0, y.dim() - 1));
  return {x.reshape(y.sizes()), log_det};
}

}  // namespace diffeo
