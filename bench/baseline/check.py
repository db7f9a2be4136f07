"""Numerical checks of the baseline flows (a few seconds); prints "ok" lines, exits 1 on failure.

    python3 bench/baseline/check.py
"""

import sys

import torch

from flows import MODELS, rational_quadratic_spline, standard_normal_log_prob

failures = 0


def check(name, passed, detail=""):
    global failures
    print(("ok   " if passed else "FAIL ") + name + ("" if passed else ": " + detail))
    failures += not passed


def max_error(a, b):
    return (a - b).abs().max().item()


def perturbed(name, dtype):
    """The model with random (non-zero) last layers, which start at zero."""
    torch.manual_seed(0)
    model = MODELS[name]().to(dtype)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.Linear) and not layer.weight.any():
                layer.weight.normal_(0, 0.3)
                layer.bias.normal_(0, 0.3)
    return model


def check_identity_at_init(name):
    torch.manual_seed(0)
    model = MODELS[name]().double()
    y = 3 * torch.randn(100, 2, dtype=torch.float64)
    with torch.no_grad():
        error = max_error(model.log_prob(y), standard_normal_log_prob(y))
    check(f"{name}: identity at initialisation", error < 1e-12, f"log_prob error {error:.3g}")


def check_round_trip(name):
    model = perturbed(name, torch.float64)
    z = torch.randn(10000, 2, dtype=torch.float64)
    with torch.no_grad():
        y, logdet = model.transform(z)
        z_back, inverse_logdet = model.inverse(y)
        log_prob = model.log_prob(y)
    error = max_error(z_back, z)
    check(f"{name}: inverse(forward(z)) == z", error < 1e-9, f"max error {error:.3g}")
    error = max_error(inverse_logdet, -logdet)
    check(f"{name}: inverse log-det == -forward log-det", error < 1e-9, f"max error {error:.3g}")
    error = max_error(log_prob, standard_normal_log_prob(z) - logdet)
    check(f"{name}: log_prob(sample) == base log_prob - log-det", error < 1e-9,
          f"max error {error:.3g}")


def check_logdet_against_jacobian(name):
    model = perturbed(name, torch.float64)
    z = 2 * torch.randn(20, 2, dtype=torch.float64)
    _, logdet = model.transform(z)
    jacobians = torch.stack([torch.autograd.functional.jacobian(lambda v: model.transform(v)[0], v)
                             for v in z])
    error = max_error(logdet, torch.linalg.slogdet(jacobians).logabsdet)
    check(f"{name}: log-det == log|det| of the autograd Jacobian", error < 1e-8,
          f"max error {error:.3g}")


def check_training_step(name):
    model = perturbed(name, torch.float32)
    loss = -model.log_prob(torch.randn(256, 2)).mean()
    loss.backward()
    finite = torch.isfinite(loss).item() and all(torch.isfinite(p.grad).all() for p in model.parameters())
    check(f"{name}: loss and gradients finite", finite)
    with torch.no_grad():
        finite = torch.isfinite(model.log_prob(model.sample(1000))).all().item()
    check(f"{name}: log_prob(sample(n)) finite", finite)


def check_spline():
    torch.manual_seed(1)
    x = torch.cat([torch.empty(2000, dtype=torch.float64).uniform_(-6, 6),
                   torch.empty(500, dtype=torch.float64).uniform_(-9, 9),
                   torch.tensor([-6.0, 6.0, -6.5, 7.0], dtype=torch.float64)])
    params = torch.randn(len(x), 23, dtype=torch.float64)
    y, logdet = rational_quadratic_spline(x, params)
    step = 1e-6
    derivative = (rational_quadratic_spline(x + step, params)[0]
                  - rational_quadratic_spline(x - step, params)[0]) / (2 * step)
    away_from_bound = ((x.abs() - 6).abs() > step) & (derivative > 1e-3)
    error = max_error(logdet[away_from_bound], derivative[away_from_bound].log())
    check("spline: log-det == log of the finite-difference derivative", error < 1e-6,
          f"max error {error:.3g}")
    outside = x.abs() > 6
    check("spline: identity outside [-6, 6]",
          torch.equal(y[outside], x[outside]) and not logdet[outside].any().item())
    x_back, inverse_logdet = rational_quadratic_spline(y, params, inverse=True)
    error = max_error(x_back, x)
    check("spline: inverse(forward(x)) == x", error < 1e-9, f"max error {error:.3g}")
    error = max_error(inverse_logdet, -logdet)
    check("spline: inverse log-det == -forward log-det", error < 1e-10, f"max error {error:.3g}")


def main():
    for name in MODELS:
        check_identity_at_init(name)
        check_round_trip(name)
        check_logdet_against_jacobian(name)
        check_training_step(name)
    check_spline()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
