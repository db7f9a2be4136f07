"""Times one benchmark workload of the plain-PyTorch baseline; prints one JSON line.

    python3 bench/baseline/bench.py --workload train/nsf/1024x256 --threads 1 --seconds 2

Workloads and the output are described in bench/README.md.
"""

import argparse
import json
import math
import os
import resource
import statistics
import time

import torch

from flows import MODELS

TRAIN_POOL = 100_000
POINTS = 1_000_000
CHUNK = 100_000
EVAL_HIDDEN = 64


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


def training_step(flow, batch, hidden):
    """One Adam step of maximum likelihood on the next batch of the pool."""
    model = make_model(flow, hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    pool = banana(TRAIN_POOL)
    step = 0

    def run():
        nonlocal step
        start = (step * batch) % (TRAIN_POOL - batch)
        loss = -model.log_prob(pool[start:start + batch]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1

    return run


def sampling(flow):
    """Draws 1e6 points in chunks of 1e5."""
    model = make_model(flow, EVAL_HIDDEN)

    @torch.no_grad()
    def run():
        for _ in range(POINTS // CHUNK):
            model.sample(CHUNK)

    return run


def density(flow):
    """Evaluates log_prob at 1e6 points in chunks of 1e5."""
    model = make_model(flow, EVAL_HIDDEN)
    points = banana(POINTS)

    @torch.no_grad()
    def run():
        for chunk in points.split(CHUNK):
            model.log_prob(chunk)

    return run


def sgemm():
    """One [1024, 256] x [256, 256] float32 matrix product into a preallocated output."""
    a, b, c = torch.randn(1024, 256), torch.randn(256, 256), torch.empty(1024, 256)
    return lambda: torch.mm(a, b, out=c)


def workload(name):
    """The function that runs one iteration of the named workload, and its iteration counts."""
    kind, _, rest = name.partition("/")
    if kind == "train":
        flow, shape = rest.split("/")
        batch, hidden = map(int, shape.split("x"))
        return training_step(flow, batch, hidden), 10, 5
    if kind == "sample":
        return sampling(rest), 1, 3
    if kind == "log_prob":
        return density(rest), 1, 3
    if name == "sgemm":
        return sgemm(), 20, 50
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
    run, warm_up, min_iterations = workload(args.workload)

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
    if args.workload == "sgemm":
        result["gflops"] = 2 * 1024 * 256 * 256 / median / 1e9
    print(json.dumps(result))


if __name__ == "__main__":
    main()
