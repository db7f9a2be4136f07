#!/usr/bin/python3
"""The reference project's flow zoo in Python on diffeo: MAF, Real NVP, NSF and Glow fitted with
the C++ training engine to the six toy densities, and the figure True | MAF | Real NVP | NSF |
Glow (densities on each one's plotting range).

    PYTHONPATH=build/python examples/python/flow_zoo.py [--steps 2000] [--out out/python]
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import diffeo  # noqa: E402

DENSITIES = ["banana", "gaussian_blobs", "energy1", "energy2", "energy3", "energy4"]
FLOWS = [("maf", "MAF"), ("realnvp", "Real NVP"), ("nsf", "NSF"), ("glow", "Glow")]
GRID = 120


def grid(density):
    x_min, x_max, y_min, y_max = density.range
    xs, ys = torch.linspace(x_min, x_max, GRID), torch.linspace(y_min, y_max, GRID)
    points = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    return points, (x_min, x_max, y_min, y_max)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", default="out/python")
    args = parser.parse_args()
    torch.set_num_threads(1)

    figure, axes = plt.subplots(len(DENSITIES), 1 + len(FLOWS), figsize=(2.4 * (1 + len(FLOWS)), 2.4 * len(DENSITIES)))
    print(f"| density | {' | '.join(label for _, label in FLOWS)} |  (test NLL - entropy, nats)")
    print("|---" * (1 + len(FLOWS)) + "|")
    for row, name in enumerate(DENSITIES):
        density = diffeo.densities.get(name)
        points, extent = grid(density)
        test = density.sample(20000, seed=99)
        entropy = -density.log_prob(test).mean().item()
        panels = [("True", density.log_prob(points))]
        gaps = []
        for flow_name, label in FLOWS:
            flow = diffeo.flows.build(flow_name, dim=2, seed=0, standardize=density.sample(10000, seed=2))
            diffeo.fit(flow, name, steps=args.steps, validate_every=0)
            with torch.no_grad():
                gaps.append(-flow.log_prob(test).mean().item() - entropy)
                panels.append((label, flow.log_prob(points)))
        print(f"| {name} | " + " | ".join(f"{g:.3f}" for g in gaps) + " |")
        for column, (label, log_prob) in enumerate(panels):
            ax = axes[row, column]
            ax.imshow(log_prob.exp().reshape(GRID, GRID).numpy(), origin="lower", extent=extent, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(label)
            if column == 0:
                ax.set_ylabel(name)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "flow_zoo.png")
    figure.savefig(path, dpi=80, bbox_inches="tight")
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
