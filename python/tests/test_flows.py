"""The Python package against the C++ core: real numbers, gradients, errors, files."""

import contextlib
import io
import os
import re
import subprocess
import threading
import time

import numpy as np
import pytest
import torch

import diffeo


def test_a_flow_built_by_name_has_the_options_given():
    flow = diffeo.flows.build("nsf", dim=2, layers=3, hidden=[16, 16], bins=6)
    assert flow.dim == 2
    assert flow.spec["flow"] == "nsf"
    assert flow.spec["options"]["bins"] == 6
    assert "nsf" in diffeo.flows.names()
    again = diffeo.flows.build("nsf", spec=flow.spec)
    assert again.spec == flow.spec


def test_samples_and_log_probs_are_the_cores_for_the_same_seed():
    flow = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[16], seed=3)
    a = flow.sample(100, generator=7)
    b = flow.sample(100, generator=torch.Generator().manual_seed(7))
    assert a.shape == (100, 2) and torch.equal(a, b)
    draws, log_prob = flow.sample_and_log_prob(100, generator=7)
    assert torch.equal(draws, a)
    assert torch.allclose(flow.log_prob(draws), log_prob, atol=1e-4)


def test_numpy_arrays_are_accepted():
    flow = diffeo.flows.build("maf", dim=2, layers=2, hidden=[8])
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    assert torch.allclose(flow.log_prob(x), flow.log_prob(torch.from_numpy(x)))


def test_gradients_through_log_prob_match_finite_differences():
    flow = diffeo.flows.build("nsf", dim=2, layers=2, hidden=[8], bins=4, seed=1).to(torch.float64)
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: flow.log_prob(v), (x,))
    weight = flow.parameters()[0]
    flow.log_prob(x.detach()).sum().backward()
    analytic = weight.grad.reshape(-1)[0].item()
    with torch.no_grad():
        h = 1e-6
        weight.view(-1)[0] += h
        up = flow.log_prob(x.detach()).sum().item()
        weight.view(-1)[0] -= 2 * h
        down = flow.log_prob(x.detach()).sum().item()
        weight.view(-1)[0] += h
    assert analytic == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_a_python_training_loop_and_the_engine_both_learn_the_banana():
    banana = diffeo.densities.get("banana")
    test = banana.sample(4000, seed=9)
    floor = -banana.log_prob(test).mean().item()

    flow = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[32, 32], seed=1)
    optimizer = torch.optim.Adam(flow.parameters(), lr=3e-3)
    data = banana.sample(20000, seed=1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(400):
        batch = data[torch.randint(len(data), (256,), generator=generator)]
        optimizer.zero_grad()
        loss = -flow.log_prob(batch).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        python_nll = -flow.log_prob(test).mean().item()

    engine = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[32, 32], seed=1)
    history = diffeo.fit(engine, data, steps=400, lr=3e-3, validate_every=0)
    assert len(history["train_loss"]) == 400
    with torch.no_grad():
        engine_nll = -engine.log_prob(test).mean().item()
    # Both far below the start (a fresh flow is ~10 nats here) and near each other.
    assert python_nll < floor + 0.6 and engine_nll < floor + 0.6
    assert abs(python_nll - engine_nll) < 0.3


def test_fit_on_a_toy_density_by_name():
    flow = diffeo.flows.build("maf", dim=2, layers=2, hidden=[16])
    history = diffeo.fit(flow, "banana", steps=50, batch_size=64, validate_every=25)
    assert history["steps"] == 50 and len(history["validation_loss"]) == 2


def test_fit_on_a_toy_density_standardises_the_flow_as_the_cli_does(tmp_path):
    banana = diffeo.densities.get("banana")
    flow = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[32, 32], seed=1)
    weights = flow.parameters()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CLI's default --threads
    try:
        diffeo.fit(flow, "banana", steps=100, lr=3e-3, seed=1)
    finally:
        torch.set_num_threads(threads)
    # By the pilot sample of `diffeo train --density`: 10000 draws seeded seed + 2.
    pilot = banana.sample(10000, seed=3).double()
    assert flow.spec["standardize"]["mean"] == pytest.approx(pilot.mean(0).tolist(), rel=1e-12)
    assert flow.spec["standardize"]["scale"] == pytest.approx(pilot.std(0).tolist(), rel=1e-12)
    assert all(a is b for a, b in zip(flow.parameters(), weights, strict=True))  # the same tensors
    path = str(tmp_path / "cli.flow")
    subprocess.run([os.environ["DIFFEO_CLI"], "train", "--density", "banana", "--flow", "realnvp", "--layers", "4",
                    "--hidden", "32,32", "--steps", "100", "--lr", "3e-3", "--seed", "1", "--quiet", "--out", path],
                   capture_output=True, check=True)
    cli = diffeo.load(path)
    test = banana.sample(4000, seed=9)
    floor = -banana.log_prob(test).mean().item()
    with torch.no_grad():
        assert cli.spec == flow.spec and torch.equal(cli.log_prob(test), flow.log_prob(test))  # bit for bit
        nll = -flow.log_prob(test).mean().item()
    assert nll < floor + 0.05
    # standardize=False: the flow as built, which ends the same run further from the banana.
    plain = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[32, 32], seed=1)
    diffeo.fit(plain, "banana", steps=100, lr=3e-3, seed=1, standardize=False)
    with torch.no_grad():
        assert "standardize" not in plain.spec and -plain.log_prob(test).mean().item() > nll + 0.05
    saved = str(tmp_path / "python.flow")
    diffeo.save(flow, saved)
    with torch.no_grad():
        assert torch.equal(diffeo.load(saved).log_prob(test), flow.log_prob(test))


def test_fit_keeps_a_flows_own_standardisation_and_dtype():
    data = diffeo.densities.get("banana").sample(500, seed=1)
    given = diffeo.flows.build("maf", dim=2, layers=2, hidden=[8], standardize=data)
    spec = given.spec
    diffeo.fit(given, "banana", steps=5, validate_every=0)
    assert given.spec == spec
    wide = diffeo.flows.build("maf", dim=2, layers=2, hidden=[8]).to(torch.float64).eval()
    diffeo.fit(wide, "banana", steps=5, validate_every=0)
    assert "standardize" in wide.spec and wide.log_prob(data.double()).dtype == torch.float64
    composed = diffeo.Transformed(diffeo.StandardNormal(2), diffeo.Chain([diffeo.Shift(torch.zeros(2))]))
    assert diffeo.fit(composed, "banana", steps=5, validate_every=0)["steps"] == 5  # no spec: as built


def test_fit_starts_from_the_flows_default_learning_rate():
    # The Bernstein flow's coefficients need 0.02 (docs/results.md); the others 1e-3.
    data = torch.randn(500, 1) * 2
    runs = {}
    for lr in (None, 0.02, 1e-3):
        flow = diffeo.flows.build("bernstein", dim=1, order=8, seed=0)
        diffeo.fit(flow, data, steps=30, batch_size=64, lr=lr, validate_every=0)
        runs[lr] = flow.log_prob(data).detach()
    assert torch.equal(runs[None], runs[0.02])
    assert not torch.equal(runs[None], runs[1e-3])
    maf_default, maf_explicit = (diffeo.flows.build("maf", dim=2, seed=0) for _ in range(2))
    x = torch.randn(300, 2)
    diffeo.fit(maf_default, x, steps=10, batch_size=64, validate_every=0)
    diffeo.fit(maf_explicit, x, steps=10, batch_size=64, lr=1e-3, validate_every=0)
    assert torch.equal(maf_default.log_prob(x), maf_explicit.log_prob(x))


def test_progress_goes_to_pythons_stderr(capsys):
    flow = diffeo.flows.build("maf", dim=2, layers=2, hidden=[8])
    data = diffeo.densities.get("banana").sample(2000, seed=1)
    diffeo.fit(flow, data, steps=500, batch_size=64, validation=data[:500], validate_every=250, progress=True)
    lines = capsys.readouterr().err.splitlines()  # sys.stderr, where a notebook shows it
    assert [line.split(" loss ")[0] for line in lines] == ["step 250/500", "step 500/500"]
    assert re.fullmatch(r"step 250/500 loss -?\d+\.\d{4} validation -?\d+\.\d{4}", lines[0])
    stream = io.StringIO()
    with contextlib.redirect_stderr(stream):
        diffeo.fit_reverse_kl(flow, diffeo.densities.get("banana"), steps=20, batch_size=64, validate_every=0,
                              progress=True)
    assert re.fullmatch(r"step 20/20 loss -?\d+\.\d{4}\n", stream.getvalue())
    diffeo.fit(flow, data, steps=10)
    assert capsys.readouterr().err == ""


def test_bad_arguments_raise_diffeo_error():
    flow = diffeo.flows.build("maf", dim=2, layers=2, hidden=[8])
    assert issubclass(diffeo.Error, ValueError)
    cases = [
        (lambda: diffeo.flows.build("nope", dim=2), "nope"),
        (lambda: diffeo.flows.build("maf", dim=2, bogus=1), "bogus"),
        (lambda: flow.log_prob(torch.zeros(3, 5)), "event"),
        (lambda: flow.sample(-1), "n"),
        (lambda: diffeo.load(__file__), "diffeo"),
        (lambda: diffeo.fit(flow, torch.zeros(10, 2), steps=0), "steps"),
        (lambda: diffeo.densities.get("nowhere"), "nowhere"),
        (lambda: flow.log_prob(torch.zeros(3, 2, dtype=torch.float64)), "dtype float64"),
        (lambda: flow.log_prob(torch.zeros(3, 2, dtype=torch.int64)), "floating-point"),
        (lambda: flow.log_prob("abc"), "tensor or an array"),
        (lambda: diffeo.fit("maf", "banana"), "must be a Flow"),
        (lambda: diffeo.fit(flow, "half_circle", steps=5), "no sampler"),
    ]
    for call, words in cases:
        with pytest.raises(diffeo.Error, match=words):
            call()


def test_a_model_saved_in_python_loads_in_the_cli(tmp_path):
    flow = diffeo.flows.build("nsf", dim=2, layers=2, hidden=[8], bins=4, seed=5)
    diffeo.fit(flow, "banana", steps=30, batch_size=64, validate_every=0)
    path = str(tmp_path / "m.flow")
    diffeo.save(flow, path)
    data = diffeo.densities.get("banana").sample(500, seed=3)
    csv = tmp_path / "d.csv"
    np.savetxt(csv, data.numpy(), delimiter=",", header="a,b", comments="")
    out = subprocess.run([os.environ["DIFFEO_CLI"], "eval", "--model", path, "--data", str(csv), "--json"],
                         capture_output=True, text=True, check=True).stdout
    import json
    cli_nll = json.loads(out)["nll"]
    with torch.no_grad():
        loaded = diffeo.load(path)
        assert loaded.spec == flow.spec
        python_nll = -loaded.log_prob(torch.tensor(np.loadtxt(csv, delimiter=",", skiprows=1),
                                                   dtype=torch.float32)).double().mean().item()
    assert cli_nll == pytest.approx(python_nll, rel=1e-5)


def test_a_model_trained_by_the_cli_loads_in_python(tmp_path):
    path = str(tmp_path / "cli.flow")
    subprocess.run([os.environ["DIFFEO_CLI"], "train", "--density", "banana", "--flow", "realnvp",
                    "--layers", "2", "--hidden", "8", "--steps", "30", "--quiet", "--out", path],
                   capture_output=True, check=True)
    data = diffeo.densities.get("banana").sample(400, seed=5)
    npy = str(tmp_path / "d.npy")
    np.save(npy, data.numpy())
    import json
    out = subprocess.run([os.environ["DIFFEO_CLI"], "eval", "--model", path, "--data", npy, "--json"],
                         capture_output=True, text=True, check=True).stdout
    with torch.no_grad():
        python_nll = -diffeo.load(path).log_prob(data).double().mean().item()
    assert json.loads(out)["nll"] == pytest.approx(python_nll, rel=1e-6)


def test_a_conditional_model_of_the_cli_takes_its_context_in_data_units(tmp_path):
    # diffeo train --context-cols records the covariates' standardisation in the model;
    # Python's log_prob then takes x as the file has it, and matches diffeo eval.
    g = torch.Generator().manual_seed(3)
    x = torch.rand(600, 1, generator=g) * 40 + 100          # far from standardised
    y = 0.1 * x + torch.randn(600, 1, generator=g)
    table = torch.cat([x, y], 1).double().numpy()
    data = str(tmp_path / "reg.npy")
    np.save(data, table)
    path = str(tmp_path / "reg.flow")
    subprocess.run([os.environ["DIFFEO_CLI"], "train", "--flow", "maf", "--layers", "2", "--hidden", "8",
                    "--data", data, "--context-cols", "1", "--steps", "200", "--quiet", "--out", path],
                   capture_output=True, check=True)
    flow = diffeo.load(path)
    assert flow.spec["data"] == {"columns": 2, "targets": [2], "context": [1]}
    assert flow.spec["standardize_context"]["mean"][0] == pytest.approx(x.mean().item(), rel=0.05)
    import json
    out = subprocess.run([os.environ["DIFFEO_CLI"], "eval", "--model", path, "--data", data, "--json"],
                         capture_output=True, text=True, check=True).stdout
    with torch.no_grad():
        python_nll = -flow.log_prob(y.float(), context=x.float()).double().mean().item()
    assert json.loads(out)["nll"] == pytest.approx(python_nll, rel=1e-5)
    # y | x ~ N(0.1 x, 1) has entropy 1.42, y alone 1.84: the covariate is used (1.50 here).
    assert python_nll < 1.65


def test_the_same_seed_gives_the_clis_samples_and_log_probs(tmp_path):
    flow = diffeo.flows.build("maf", dim=2, layers=3, hidden=[16], seed=4)
    diffeo.fit(flow, "banana", steps=20, batch_size=64, validate_every=0)
    path = str(tmp_path / "m.flow")
    diffeo.save(flow, path)
    npy = str(tmp_path / "s.npy")
    subprocess.run([os.environ["DIFFEO_CLI"], "sample", "--model", path, "-n", "300", "--seed", "11",
                    "--out", npy], capture_output=True, check=True)
    cli = torch.from_numpy(np.load(npy))
    with torch.inference_mode():  # the CLI samples without autograd too
        mine = diffeo.load(path).sample(300, generator=11)
    assert torch.equal(cli, mine)


def test_fit_releases_the_gil():
    ticks = []
    running = threading.Event()

    def count():
        running.set()
        while len(ticks) < 10000 and not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    stop = threading.Event()
    thread = threading.Thread(target=count)
    thread.start()
    running.wait()
    flow = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[64, 64])
    start = time.perf_counter()
    diffeo.fit(flow, "banana", steps=300, batch_size=256, validate_every=0)
    end = time.perf_counter()
    stop.set()
    thread.join()
    during = [t for t in ticks if start <= t <= end]
    # The thread kept ticking while fit ran (held GIL: no ticks at all).
    assert end - start > 0.05 and len(during) > 10


def test_an_image_flow_on_fashion_mnist_through_fit():
    images, labels = diffeo.fashion_mnist("train", downsample=4)  # 7x7 -> crop to 4x4 below
    images = images[:600, :, 1:5, 1:5].contiguous()
    assert images.dtype == torch.uint8
    train, test = images[:500], images[500:]
    flow = diffeo.flows.build("glow", dim=16, image_shape=[1, 4, 4], layers=2, hidden=[16], levels=1,
                              logit=1e-6)
    before, _ = diffeo.bits_per_dim(flow, test)
    history = diffeo.fit(flow, train, steps=60, batch_size=32, lr=3e-3, validation=test, validate_every=30)
    after, se = diffeo.bits_per_dim(flow, test)
    assert len(history["validation_loss"]) == 2
    assert after < before - 0.5 and after < 8.0 and se > 0
    pictures = diffeo.sample_images(flow, 9, seed=1)
    assert pictures.shape == (9, 1, 4, 4) and 0 <= pictures.min() and pictures.max() <= 1


def test_fit_pauses_and_resumes_bit_identically(tmp_path):
    data = diffeo.densities.get("banana").sample(3000, seed=4)
    straight = diffeo.flows.build("realnvp", dim=2, layers=2, hidden=[16], seed=6)
    diffeo.fit(straight, data, steps=80, batch_size=64, validate_every=40)
    checkpoint = str(tmp_path / "run.ckpt")
    paused = diffeo.flows.build("realnvp", dim=2, layers=2, hidden=[16], seed=6)
    history = diffeo.fit(paused, data, steps=80, batch_size=64, validate_every=40, checkpoint=checkpoint,
                         stop_after=30)
    assert history["stop_reason"] == "paused"
    resumed = diffeo.flows.build("realnvp", dim=2, layers=2, hidden=[16], seed=6)
    history = diffeo.fit(resumed, data, steps=80, batch_size=64, validate_every=40, checkpoint=checkpoint,
                         resume=True)
    assert history["steps"] == 80
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
