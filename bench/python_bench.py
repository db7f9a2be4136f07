#!/usr/bin/python3
"""diffeo from Python against the plain-PyTorch baseline, in one run (docs/python.md).

For Real NVP, MAF and NSF at batch 128, width 64 (bench/run's train/*/128x64), one thread:
  - a Python training loop (loss = -flow.log_prob(x).mean(); backward; Adam step) on the
    baseline's model (bench/baseline/flows.py) and on diffeo's, with torch.optim.Adam on both,
    and with diffeo.optim.Adam (the same update on one flat buffer) on both;
  - diffeo.fit's time per step (constant rate, no clipping: the step diffeo_bench times)
    against the C++ diffeo_bench in the same run;
  - the same Python loop, with both optimizers, on the models built from nflows, zuko and
    normflows (bench/baseline/python_libraries.py), for those of them on PYTHONPATH
    (bench/README.md says how to get them); a second table puts them beside the baseline
    and diffeo.
Medians over rounds of each measurement's median step time.

    PYTHONPATH=build/python bench/python_bench.py [--rounds 3] [--seconds 2]
    PYTHONPATH=build/python:/work/pylibs/nflows:/work/pylibs/zuko:/work/pylibs/normflows \
        bench/python_bench.py
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench" / "baseline"))
import bench as baseline_bench  # noqa: E402  (bench/baseline/bench.py: data and models)
import diffeo  # noqa: E402
import python_libraries  # noqa: E402  (bench/baseline/python_libraries.py: nflows, zuko, normflows)

FLOWS = {"realnvp": {"layers": 8}, "maf": {"layers": 5}, "nsf": {"layers": 4, "bins": 8}}
BATCH, HIDDEN, POOL = 128, 64, 100_000


def median_step(step, seconds, warm_up=10, minimum=5):
    for _ in range(warm_up):
        step()
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < minimum or time.perf_counter() < deadline:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python_loop(model, pool, seconds, foreach=False, flat=False):
    optimizer = (diffeo.optim.Adam(model.parameters(), lr=1e-3) if flat
                 else torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach))
    state = {"step": 0}

    def step():
        start = (state["step"] * BATCH) % (POOL - BATCH)
        loss = -model.log_prob(pool[start:start + BATCH]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state["step"] += 1

    return median_step(step, seconds)


def diffeo_flow(name):
    return diffeo.flows.build(name, dim=2, hidden=[HIDDEN, HIDDEN], seed=0, **FLOWS[name])


def fit_step(name, pool, seconds):
    flow = diffeo_flow(name)
    diffeo.fit(flow, pool, steps=20, batch_size=BATCH, validate_every=0)  # warm-up
    steps = max(50, int(seconds / 0.002))
    history = diffeo.fit(diffeo_flow(name), pool, steps=steps, batch_size=BATCH, validate_every=0,
                         schedule="constant", clip_grad_norm=0)
    return history["seconds"] / history["steps"]


def cxx_step(name, seconds, executable):
    out = subprocess.run([executable, "--workload", f"train/{name}/{BATCH}x{HIDDEN}", "--threads", "1",
                          "--seconds", str(seconds)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["median_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--foreach", action="store_true",
                        help="torch.optim.Adam(foreach=True) in both Python loops (multi-tensor kernels)")
    parser.add_argument("--diffeo-bench", default=str(REPO / "build" / "bench" / "diffeo_bench"))
    parser.add_argument("--libraries", default=",".join(python_libraries.BUILDERS),
                        help="comma-separated Python flow libraries to time where importable "
                             "(default all: %(default)s; '' for none)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    pool = baseline_bench.banana(POOL)
    wanted = [name for name in args.libraries.split(",") if name]
    unknown = set(wanted) - set(python_libraries.BUILDERS)
    if unknown:
        parser.error(f"unknown libraries {sorted(unknown)}; known: {list(python_libraries.BUILDERS)}")
    libraries = python_libraries.available(wanted)
    rows = []
    for name in FLOWS:
        measured = {"pytorch": [], "diffeo": [], "pytorch_flat": [], "flat": [], "fit": [], "cxx": []}
        for library in libraries:
            measured[library], measured[f"{library}_flat"] = [], []
        for _ in range(args.rounds):
            measured["pytorch"].append(
                python_loop(baseline_bench.make_model(name, HIDDEN), pool, args.seconds, args.foreach))
            measured["diffeo"].append(python_loop(diffeo_flow(name), pool, args.seconds, args.foreach))
            measured["pytorch_flat"].append(
                python_loop(baseline_bench.make_model(name, HIDDEN), pool, args.seconds, flat=True))
            measured["flat"].append(python_loop(diffeo_flow(name), pool, args.seconds, flat=True))
            measured["fit"].append(fit_step(name, pool, args.seconds))
            measured["cxx"].append(cxx_step(name, args.seconds, args.diffeo_bench))
            for library, builder in libraries.items():
                measured[library].append(python_loop(
                    python_libraries.make_model(builder, name, HIDDEN), pool, args.seconds, args.foreach))
                measured[f"{library}_flat"].append(python_loop(
                    python_libraries.make_model(builder, name, HIDDEN), pool, args.seconds, flat=True))
            print(f"{name}: " + ", ".join(f"{k} {v[-1] * 1e3:.3f} ms" for k, v in measured.items()),
                  file=sys.stderr)
        m = {k: statistics.median(v) for k, v in measured.items()}
        rows.append((name, m))
    print(f"| flow (batch {BATCH}, width {HIDDEN}, 1 thread) | baseline, torch Adam (ms) "
          "| diffeo, torch Adam (ms) | speed-up | baseline, diffeo.optim.Adam (ms) "
          "| diffeo, diffeo.optim.Adam (ms) | speed-up | diffeo.fit per step (ms) "
          "| C++ diffeo_bench (ms) | fit / C++ |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, m in rows:
        print(f"| {name} | {m['pytorch'] * 1e3:.3f} | {m['diffeo'] * 1e3:.3f} | {m['pytorch'] / m['diffeo']:.2f}x "
              f"| {m['pytorch_flat'] * 1e3:.3f} | {m['flat'] * 1e3:.3f} | {m['pytorch_flat'] / m['flat']:.2f}x "
              f"| {m['fit'] * 1e3:.3f} | {m['cxx'] * 1e3:.3f} | {m['fit'] / m['cxx']:.2f} |")
    if libraries:
        print_library_table(rows, list(libraries))


def print_library_table(rows, libraries):
    """A Python loop's step on every implementation of each flow, per optimizer, with diffeo's
    speed-up over the fastest of the others."""
    print()
    print(f"| flow (batch {BATCH}, width {HIDDEN}, 1 thread) | optimizer | baseline (ms) | "
          + " | ".join(f"{library} (ms)" for library in libraries)
          + " | diffeo (ms) | diffeo's speed-up over the fastest other |")
    print("|---|---|---|" + "---|" * len(libraries) + "---|---|")
    for name, m in rows:
        for optimizer, suffix, diffeo_key in (("torch.optim.Adam", "", "diffeo"),
                                              ("diffeo.optim.Adam", "_flat", "flat")):
            others = [m[f"pytorch{suffix}"]] + [m[library + suffix] for library in libraries]
            print(f"| {name} | {optimizer} | "
                  + " | ".join(f"{value * 1e3:.3f}" for value in others)
                  + f" | {m[diffeo_key] * 1e3:.3f} | {min(others) / m[diffeo_key]:.2f}x |")


if __name__ == "__main__":
    main()
