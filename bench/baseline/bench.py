"""Times one benchmark workload of the plain-PyTorch baseline; prints one JSON line.

    python3 bench/baseline/bench.py --workload train/nsf/1024x256 --threads 1 --seconds 2

Workloads and the output are described in bench/README.md.
"""

import argparse
import itertools
import json
import math
import os
import resource
import statistics
import time

import torch

from flows import MODELS
from image_flows import IMAGE_MODELS, LEARNING_RATES

TRAIN_POOL = 100_000
POINTS = 1_000_000
CHUNK = 100_000
EVAL_HIDDEN = 64
IMAGE_SHAPE = (1, 28, 28)  # Fashion-MNIST's
IMAGE_POOL = 1024
IMAGE_BATCH = 64  # the CLI's batch size, and the grid's sample count


def banana(n):
    """n standardised banana points: x2 ~ N(0, 3), x1 = x2^2 / 3 - 2 + N(0, 3/4)."""
    generator = torch.Generator().manual_seed(0)
    x2 = math.sqrt(3) * torch.randn(n, generator=generator)
    x1 = x2.pow(2) / 3 - 2 + math.sqrt(3) / 2 * torch.randn(n, generator=generator)
    points = torch.stack([x1, x2], dim=-1)
    return (points - points.mean(0)) / points.std(0)


def make_model(flow, hidden):
    torch.manual_seed(0)
    return MODELS[flow](dim=2, hidden=hidden)


def make_image_model(flow):
    torch.manual_seed(0)
    return IMAGE_MODELS[flow]()


def training_step(model, batches, lr=1e-3):
    """One Adam step of maximum likelihood on the next of the batches."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def run():
        loss = -model.log_prob(next(batches)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return run


def batches(pool, batch):
    """Step i's batch: rows [(i batch) % (len(pool) - batch), + batch) of the pool."""
    for step in itertools.count():
        start = (step * batch) % (len(pool) - batch)
        yield pool[start:start + batch]


def image_batches():
    """Batches of a pool of random 8-bit images, each dequantised afresh to (x + u) / 256
    with u ~ U[0, 1) and flattened, as diffeo's ImageBatches makes them."""
    generator = torch.Generator().manual_seed(0)
    pool = torch.randint(0, 256, (IMAGE_POOL, *IMAGE_SHAPE), generator=generator,
                         dtype=torch.uint8)
    for pixels in batches(pool.flatten(1), IMAGE_BATCH):
        yield (pixels + torch.rand(pixels.shape, generator=generator)) / 256


def sampling(model):
    """Draws 1e6 points in chunks of 1e5."""

    @torch.no_grad()
    def run():
        for _ in range(POINTS // CHUNK):
            model.sample(CHUNK)

    return run


def density(model):
    """Evaluates log_prob at 1e6 points in chunks of 1e5."""
    points = banana(POINTS)

    @torch.no_grad()
    def run():
        for chunk in points.split(CHUNK):
            model.log_prob(chunk)

    return run


def image_grid(model):
    """64 pictures in [0, 1], as `diffeo sample --grid` draws them."""
    model.eval()

    @torch.no_grad()
    def run():
        model.sample(IMAGE_BATCH).reshape(IMAGE_BATCH, *IMAGE_SHAPE).clamp(0, 1)

    return run


def sgemm():
    """One [1024, 256] x [256, 256] float32 matrix product into a preallocated output."""
    a, b, c = torch.randn(1024, 256), torch.randn(256, 256), torch.empty(1024, 256)
    return lambda: torch.mm(a, b, out=c)


def workload(name):
    """The workload's model (None for sgemm), the function that runs one iteration of it,
    and its iteration counts: warm-up and minimum timed."""
    kind, _, rest = name.partition("/")
    if name.startswith("train/image-"):
        flow = rest.removeprefix("image-")
        model = make_image_model(flow)
        return model, training_step(model, image_batches(), LEARNING_RATES[flow]), 10, 5
    if name.startswith("sample/image-") and name.endswith("-grid"):
        flow = rest.removeprefix("image-").removesuffix("-grid")
        model = make_image_model(flow)
        # MAF's grid takes D = 784 sequential passes per layer, a minute: one, no warm-up.
        return (model, image_grid(model)) + ((0, 1) if flow == "maf" else (1, 3))
    if kind == "train":
        flow, shape = rest.split("/")
        batch, hidden = map(int, shape.split("x"))
        model = make_model(flow, hidden)
        return model, training_step(model, batches(banana(TRAIN_POOL), batch)), 10, 5
    if kind == "sample":
        model = make_model(rest, EVAL_HIDDEN)
        return model, sampling(model), 1, 3
    if kind == "log_prob":
        model = make_model(rest, EVAL_HIDDEN)
        return model, density(model), 1, 3
    if name == "sgemm":
        return None, sgemm(), 20, 50
    raise ValueError(f"unknown workload {name!r}")


def resident_mb():
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model, run, warm_up, min_iterations = workload(args.workload)

    rss_start_mb = resident_mb()
    for _ in range(warm_up):
        run()
    times = []
    deadline = time.perf_counter() + args.seconds
    while len(times) < min_iterations or time.perf_counter() < deadline:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)

    result = {"impl": "pytorch", "workload": args.workload, "threads": args.threads,
              "median_s": median, "iterations": len(times), "rss_start_mb": round(rss_start_mb, 1),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if model is not None:
        result["parameters"] = sum(p.numel() for p in model.parameters())
    if args.workload == "sgemm":
        result["gflops"] = 2 * 1024 * 256 * 256 / median / 1e9
    print(json.dumps(result))


if __name__ == "__main__":
    main()
