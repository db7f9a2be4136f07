"""Numerical checks of the baseline flows (a few seconds); prints "ok" lines, exits 1 on failure.

The image models (image_flows.py) are checked on 1x4x4 images, and their sizes at 1x28x28
against diffeo's parameter counts.

    python3 bench/baseline/check.py
"""

import math
import sys

import torch

from flows import MODELS, rational_quadratic_spline, standard_normal_log_prob
from image_flows import IMAGE_MODELS

SMALL_IMAGE = (1, 4, 4)
# diffeo's parameter counts of the CLI's image models on 1x28x28 (diffeo_bench's output).
DIFFEO_PARAMETERS = {"maf": 12_055_200, "nsf": 10_196_672, "glow": 159_972}

failures = 0


def check(name, passed, detail=""):
    global failures
    print(("ok   " if passed else "FAIL ") + name + ("" if passed else ": " + detail))
    failures += not passed


def max_error(a, b):
    return (a - b).abs().max().item()


def perturbed(model, dtype, scale=0.3):
    """The model in evaluation mode (no data-dependent initialisation) with random values in
    its all-zero parameters (last layers, ActNorm, biases), which make it the identity."""
    model = model.to(dtype).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if not parameter.any():
                parameter.normal_(0, scale)
    return model


def toy_model(name, dtype):
    torch.manual_seed(0)
    return perturbed(MODELS[name](), dtype)


def image_model(name):
    """The image model on 1x4x4; small perturbations keep its logit-space values where the
    final sigmoid does not saturate in float64."""
    torch.manual_seed(0)
    return perturbed(IMAGE_MODELS[name](SMALL_IMAGE), torch.float64, scale=0.02)


def check_identity_at_init(name):
    torch.manual_seed(0)
    model = MODELS[name]().double()
    y = 3 * torch.randn(100, 2, dtype=torch.float64)
    with torch.no_grad():
        error = max_error(model.log_prob(y), standard_normal_log_prob(y))
    check(f"{name}: identity at initialisation", error < 1e-12, f"log_prob error {error:.3g}")


def check_round_trip(name, model, z):
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


def check_logdet_against_jacobian(name, model, z):
    _, logdet = model.transform(z)
    jacobians = torch.stack([
        torch.autograd.functional.jacobian(lambda v: model.transform(v[None])[0][0], v) for v in z])
    error = max_error(logdet, torch.linalg.slogdet(jacobians).logabsdet)
    check(f"{name}: log-det == log|det| of the autograd Jacobian", error < 1e-8,
          f"max error {error:.3g}")


def check_training_step(name):
    model = toy_model(name, torch.float32)
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


def check_parameter_count(name):
    count = sum(p.numel() for p in IMAGE_MODELS[name]().parameters())
    check(f"image-{name}: {count} parameters on 1x28x28, as diffeo's",
          count == DIFFEO_PARAMETERS[name], f"diffeo has {DIFFEO_PARAMETERS[name]}")


def main():
    for name in MODELS:
        check_identity_at_init(name)
        model = toy_model(name, torch.float64)
        check_round_trip(name, model, torch.randn(10000, 2, dtype=torch.float64))
        check_logdet_against_jacobian(name, model, 2 * torch.randn(20, 2, dtype=torch.float64))
        check_training_step(name)
    check_spline()
    dim = math.prod(SMALL_IMAGE)
    for name in IMAGE_MODELS:
        model = image_model(name)
        check_round_trip(f"image-{name}", model, torch.randn(200, dim, dtype=torch.float64))
        check_logdet_against_jacobian(f"image-{name}", model,
                                      torch.randn(10, dim, dtype=torch.float64))
        check_parameter_count(name)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
