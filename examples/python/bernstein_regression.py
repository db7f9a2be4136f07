#!/usr/bin/python3
"""A Bernstein transformation model of p(y | x) in Python on diffeo (the reference project's
Bernstein regression): y = x ± 1.5 + N(0, 0.3²), bimodal for every x, which a Gaussian
regression cannot represent; a conditional Bernstein flow of order 16 can.

    PYTHONPATH=build/python examples/python/bernstein_regression.py [--steps 3000] [--out out/python]
"""

import argparse
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import diffeo  # noqa: E402


def regression_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 4 - 2
    sign = torch.randint(0, 2, (n, 1), generator=g).float() * 2 - 1
    return x + 1.5 * sign + 0.3 * torch.randn(n, 1, generator=g), x


def true_log_prob(y, x):
    a = -0.5 * ((y - x - 1.5) / 0.3) ** 2
    b = -0.5 * ((y - x + 1.5) / 0.3) ** 2
    return (torch.logaddexp(a, b) + math.log(0.5) - math.log(0.3) - 0.5 * math.log(2 * math.pi)).squeeze(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", default="out/python")
    args = parser.parse_args()
    torch.set_num_threads(1)
    y, x = regression_data(4000, 3)
    y_test, x_test = regression_data(20000, 4)
    entropy = -true_log_prob(y_test, x_test).mean().item()
    models = {
        "Gaussian regression (1 affine MAF layer)":
            diffeo.flows.build("maf", dim=1, layers=1, hidden=[32, 32], context_features=1, standardize=y),
        "Bernstein, order 16":
            diffeo.flows.build("bernstein", dim=1, order=16, hidden=[32, 32], context_features=1, standardize=y),
    }
    print(f"| model | test NLL - conditional entropy ({entropy:.3f}) |\n|---|---|")
    for label, model in models.items():
        diffeo.fit(model, y, context=x, steps=args.steps, lr=0.01, validate_every=0)
        with torch.no_grad():
            gap = (-model.log_prob(y_test, context=x_test)).mean().item() - entropy
        print(f"| {label} | {gap:.4f} |")

    bernstein = models["Bernstein, order 16"]
    xs, ys = torch.linspace(-2, 2, 100), torch.linspace(-4, 4, 100)
    px, py = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        density = bernstein.log_prob(py.reshape(-1, 1), context=px.reshape(-1, 1)).exp().reshape(100, 100)
    os.makedirs(args.out, exist_ok=True)
    figure, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(density.numpy(), origin="lower", extent=(-2, 2, -4, 4), aspect="auto", cmap="viridis")
    ax.scatter(x[:300, 0], y[:300, 0], s=3, c="white", alpha=0.6)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Bernstein flow (order 16): p(y | x), 300 data points")
    path = os.path.join(args.out, "bernstein_regression.png")
    figure.savefig(path, dpi=100, bbox_inches="tight")
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
