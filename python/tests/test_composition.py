"""The bijector API from Python: the README's rotation experiment line for line, round trips,
and reverse KL with a Python target."""

import math

import pytest
import torch

import diffeo


def test_the_rotation_experiment_runs_line_for_line():
    torch.manual_seed(0)
    truth = diffeo.Transformed(  # N((3, 1), diag(0.75², 3²)) rotated by 60°
        diffeo.Normal(torch.tensor([3.0, 1.0]), torch.tensor([0.75, 3.0]), learnable=False),
        diffeo.Rotation2D(math.pi / 3, learnable=False))
    rotation = diffeo.Rotation2D(math.pi)  # y = R(theta) (a * z + b), z ~ N(0, I)
    flow = diffeo.Transformed(diffeo.StandardNormal(2),
                              diffeo.Chain([rotation, diffeo.Shift(torch.zeros(2)), diffeo.Scale(torch.ones(2))]))
    adam = torch.optim.Adam(flow.parameters(), lr=0.05)
    for _ in range(800):
        loss = -flow.log_prob(truth.sample(128)).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
    with torch.no_grad():
        x = truth.sample(20000, generator=1)
        gap = (-flow.log_prob(x).mean() + truth.log_prob(x).mean()).item()
    assert 0 <= gap + 0.01 and gap < 0.05  # KL(truth || model) estimate, ~0 when learned
    assert flow.sample(5).shape == (5, 2)


def test_bijectors_invert_and_their_log_dets_negate():
    chain = diffeo.Chain([diffeo.Rotation2D(0.3), diffeo.Shift(torch.tensor([1.0, -2.0])),
                          diffeo.Scale(torch.tensor([2.0, 0.5]))])
    x = torch.randn(7, 2, dtype=torch.float32, generator=torch.Generator().manual_seed(3))
    y, forward_log_det = chain.forward_and_log_det(x)
    back, inverse_log_det = chain.inverse_and_log_det(y)
    assert torch.allclose(back, x, atol=1e-5)
    assert torch.allclose(forward_log_det, -inverse_log_det, atol=1e-6)
    # Scale by (2, 0.5): log|det| = log 1 = 0; the rotation and shift add nothing.
    assert torch.allclose(forward_log_det, torch.zeros(7), atol=1e-6)
    inverse = diffeo.Inverse(chain)
    assert torch.allclose(inverse.forward(y), x, atol=1e-5)
    assert len(chain.parameters()) == 3


def test_reverse_kl_with_a_python_target():
    banana = diffeo.densities.get("banana")
    calls = []

    def target(x):  # called from the C++ engine with the GIL taken back
        calls.append(len(x))
        return banana.log_prob(x)

    flow = diffeo.flows.build("realnvp", dim=2, layers=4, hidden=[32, 32], seed=2)
    history = diffeo.fit_reverse_kl(flow, target, steps=150, batch_size=128, lr=3e-3, validate_every=0)
    losses = history["train_loss"]
    assert len(losses) == 150 and calls[0] == 128
    assert sum(losses[-20:]) / 20 < sum(losses[:20]) / 20 - 0.5


def test_flat_adam_takes_torch_adams_steps():
    flows = [diffeo.flows.build("nsf", dim=2, layers=2, hidden=[16], bins=4, seed=3) for _ in range(2)]
    theirs = torch.optim.Adam(flows[0].parameters(), lr=1e-2)
    ours = diffeo.optim.Adam(flows[1].parameters(), lr=1e-2)
    data = diffeo.densities.get("banana").sample(256, seed=1)
    for step in range(30):
        batch = data[step * 8:step * 8 + 64]
        for flow, optimizer in ((flows[0], theirs), (flows[1], ours)):
            optimizer.zero_grad()
            (-flow.log_prob(batch).mean()).backward()
            optimizer.step()
    # One pass per element instead of torch's eight operators: equal to float rounding.
    for a, b, start in zip(flows[0].parameters(), flows[1].parameters(),
                           diffeo.flows.build("nsf", dim=2, layers=2, hidden=[16], bins=4,
                                              seed=3).parameters()):
        assert (a - b).abs().max().item() < 2e-6
        assert (a - start).abs().max().item() > 1e-2


def test_spline_and_bernstein_bijectors_invert_and_their_log_dets_are_the_jacobians():
    # Inside and outside each one's interval ([-3, 3]; the polynomial's [0, 1] with linear tails),
    # avoiding the interval's ends themselves (their gradient is issue 20's bug).
    spline_x = torch.linspace(-3.5, 3.5, 40, dtype=torch.float64).unsqueeze(1).repeat(1, 2)
    polynomial_x = torch.linspace(-0.49, 1.49, 40, dtype=torch.float64).unsqueeze(1).repeat(1, 2)
    for bijector, x in ((diffeo.RationalQuadraticSpline(6, shape=[2]), spline_x),
                        (diffeo.BernsteinPolynomial(8, shape=[2]), polynomial_x)):
        bijector.to(torch.float64)
        with torch.no_grad():
            for p in bijector.parameters():  # off the identity they start at
                p.add_(0.5 * torch.randn(p.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
        inputs = x.clone().requires_grad_(True)
        y, log_det = bijector.forward_and_log_det(inputs)
        slope, = torch.autograd.grad(y.sum(), inputs)  # elementwise: the Jacobian's diagonal
        assert torch.allclose(log_det, slope.log(), atol=1e-8)
        assert torch.allclose(bijector.inverse(y.detach()), x, atol=1e-6)
        assert not torch.allclose(y, x)  # a real map, not the identity
    lifted = diffeo.Block(diffeo.RationalQuadraticSpline(4, shape=[2]), 1)
    assert lifted.forward_and_log_det(torch.zeros(3, 2))[1].shape == (3,)


def test_vector_bijectors_invert_and_their_log_dets_are_the_jacobians():
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    made = [diffeo.MaskedAutoregressive(3, hidden=[16], transform=t, bins=4) for t in ("affine", "spline")]
    made += [diffeo.Coupling(3, hidden=[16], transform=t, bins=4) for t in ("affine", "spline", "bernstein")]
    for layer in made:  # off the identity the zero last layer starts them at
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    bijectors = made + [diffeo.LULinear(3, seed=2), diffeo.Permute([2, 0, 1]), diffeo.RandomPermutation(3, seed=5),
                 diffeo.Block(diffeo.SoftClip(-2.0, 4.0), 1), diffeo.ActNorm(3),
                 diffeo.Chain([diffeo.LULinear(3, seed=1), diffeo.Block(diffeo.SoftClip(-1.0, 1.0), 1)])]
    for bijector in bijectors:
        bijector.to(torch.float64)
        bijector.inverse(x)  # ActNorm initialises itself from a first (training-mode) batch
        y, log_det = bijector.forward_and_log_det(x)
        assert torch.allclose(bijector.inverse(y), x, atol=1e-7)
        for row in range(len(x)):
            jacobian = torch.autograd.functional.jacobian(lambda v: bijector.forward(v.unsqueeze(0))[0], x[row])
            assert log_det[row].item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), abs=1e-8)
