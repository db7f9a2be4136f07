#!/usr/bin/python3
"""The reference project's rotation experiment in Python on diffeo: fit y = R(theta)(a z + b),
z ~ N(0, I), to a rotated, stretched Gaussian by maximum likelihood with torch.optim.Adam.

    PYTHONPATH=build/python examples/python/rotation.py [--steps 1500] [--out out/python]
"""

import argparse
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import diffeo  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", default="out/python")
    args = parser.parse_args()
    torch.manual_seed(0)

    truth = diffeo.Transformed(  # N((3, 1), diag(0.75², 3²)) rotated by 60°
        diffeo.Normal(torch.tensor([3.0, 1.0]), torch.tensor([0.75, 3.0]), learnable=False),
        diffeo.Rotation2D(math.pi / 3, learnable=False))
    rotation = diffeo.Rotation2D(math.pi)  # the model: y = R(theta) (a * z + b), z ~ N(0, I)
    flow = diffeo.Transformed(diffeo.StandardNormal(2),
                              diffeo.Chain([rotation, diffeo.Shift(torch.zeros(2)), diffeo.Scale(torch.ones(2))]))

    adam = torch.optim.Adam(flow.parameters(), lr=0.05)
    for step in range(args.steps):
        loss = -flow.log_prob(truth.sample(128)).mean()  # maximum likelihood
        adam.zero_grad()
        loss.backward()
        adam.step()

    with torch.no_grad():
        test = truth.sample(50000, generator=1)
        kl = (truth.log_prob(test) - flow.log_prob(test)).mean().item()
        params = {k: [round(v, 3) for v in t.reshape(-1).tolist()] for k, t in flow.named_parameters().items()}
        print(f"after {args.steps} steps: KL(truth || model) = {kl:.4f} nats; parameters {params}")
        model = flow.sample(2000, generator=2)
    os.makedirs(args.out, exist_ok=True)
    figure, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharex=True, sharey=True)
    for ax, points, title in ((axes[0], test[:2000], "data"), (axes[1], model, "fitted flow")):
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
        ax.set_title(title)
        ax.set_aspect("equal")
    path = os.path.join(args.out, "rotation.png")
    figure.savefig(path, dpi=100, bbox_inches="tight")
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
