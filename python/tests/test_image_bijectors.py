"""The image bijectors and HINT from Python: round trips, log-dets against autograd Jacobians,
a Glow-like chain assembled from the pieces, and HINT trained by torch.optim and by fit."""

import pytest
import torch

import diffeo

F64 = torch.float64


def image(shape, seed):
    return torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(seed))


def off_identity(bijector, seed):
    """Moves every parameter off its initial value (a zero last layer starts at the identity)."""
    with torch.no_grad():
        for p in bijector.parameters():
            p.add_(0.2 * torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(seed)))
    return bijector


def assert_inverts_with_the_jacobians_log_det(bijector, x, context=None, nontrivial=True):
    """inverse(forward(x)) == x; forward's log-det per sample == log|det| of the autograd
    Jacobian of the flattened sample; inverse's == minus forward's."""
    y, log_det = bijector.forward_and_log_det(x, context)
    back, inverse_log_det = bijector.inverse_and_log_det(y, context)
    assert torch.allclose(back, x, atol=1e-10, rtol=0)
    assert torch.allclose(inverse_log_det, -log_det, atol=1e-10, rtol=0)
    assert log_det.shape == x.shape[:1]
    if nontrivial:
        assert not torch.allclose(y.reshape(x.shape) if y.numel() == x.numel() else y, x)
    for row in range(len(x)):
        c = None if context is None else context[row:row + 1]

        def one(v):
            return bijector.forward(v.reshape((1,) + x.shape[1:]), c).reshape(-1)

        jacobian = torch.autograd.functional.jacobian(one, x[row].reshape(-1))
        assert jacobian.shape == (x[row].numel(), x[row].numel())
        sign, log_abs_det = torch.linalg.slogdet(jacobian)
        assert sign != 0
        assert log_det[row].item() == pytest.approx(log_abs_det.item(), abs=1e-8)


def test_squeeze_moves_each_2x2_patch_into_channels_in_the_documented_order():
    x = image((2, 3, 4, 6), 1)
    y, log_det = diffeo.Squeeze().forward_and_log_det(x)
    assert y.shape == (2, 12, 2, 3) and torch.equal(log_det, torch.zeros(2, dtype=F64))
    for c in range(3):
        for i in range(2):
            for j in range(2):  # channel 4c + 2i + j at (h, w) is channel c at (2h + i, 2w + j)
                assert torch.equal(y[:, 4 * c + 2 * i + j], x[:, c, i::2, j::2])
    assert torch.equal(diffeo.Squeeze().inverse(y), x)
    assert torch.equal(diffeo.Inverse(diffeo.Squeeze()).forward(y), x)


def test_image_bijectors_invert_and_their_log_dets_are_the_jacobians():
    torch.manual_seed(0)  # the conditioners' initial weights (torch's global generator)
    x2, x4 = image((2, 2, 4, 4), 2), image((2, 4, 2, 2), 3)
    act_norm = diffeo.ActNorm2d(2).to(F64)
    act_norm.inverse(3.0 * x2 + 1.0)  # initialises itself from a first training batch
    couplings = [off_identity(diffeo.ConvCoupling(2, hidden_channels=8, transform=t, bins=4, zero_last_layer=False)
                              .to(F64), 1) for t in ("affine", "spline", "bernstein")]
    inner = off_identity(diffeo.ConvCoupling(2, hidden_channels=4, zero_last_layer=False).to(F64), 2)
    factor_out = off_identity(diffeo.FactorOut(4, inner, hidden_channels=8, zero_last_layer=False).to(F64), 3)
    cases = [(off_identity(act_norm, 4), x2), (diffeo.InvertibleConv1x1(2, seed=5).to(F64), x2),
             (diffeo.Pixelwise(diffeo.LULinear(4, seed=1)).to(F64), x4), (factor_out, x4)]
    cases += [(coupling, x2) for coupling in couplings]
    for bijector, x in cases:
        assert_inverts_with_the_jacobians_log_det(bijector, x)
    # Permutations of the pixels: log-det 0 (the Jacobian's too).
    assert_inverts_with_the_jacobians_log_det(diffeo.Squeeze(), x2, nontrivial=False)
    assert_inverts_with_the_jacobians_log_det(diffeo.Inverse(diffeo.Squeeze()), x4, nontrivial=False)
    # A conditional coupling: the context [n, K] conditions every pixel.
    conditional = off_identity(diffeo.ConvCoupling(2, hidden_channels=8, context_features=3,
                                                   zero_last_layer=False).to(F64), 6)
    context = image((2, 3), 7)
    assert_inverts_with_the_jacobians_log_det(conditional, x2, context)
    assert not torch.allclose(conditional.forward(x2, context), conditional.forward(x2, context + 1))


def test_new_couplings_start_at_the_identity():
    x = image((3, 4, 2, 2), 8)
    for bijector in (diffeo.ConvCoupling(4, hidden_channels=8), diffeo.ConvCoupling(4, transform="spline"),
                     diffeo.InvertibleConv1x1(4, identity_init=True)):
        y, log_det = bijector.to(F64).forward_and_log_det(x)
        assert torch.allclose(y, x, atol=1e-12) and torch.allclose(log_det, torch.zeros(3, dtype=F64), atol=1e-12)
    # FactorOut's prior on the factored half starts as N(0, 1): z = y there.
    factor_out = diffeo.FactorOut(4, diffeo.ConvCoupling(2, hidden_channels=4), hidden_channels=8).to(F64)
    assert torch.allclose(factor_out.inverse(x), x, atol=1e-12)


def glow_level(channels, steps, seed):
    """One level of Glow as multiscale_glow.cpp builds it, data side first:
    squeeze, `steps` x (actnorm, 1x1 conv, affine coupling), unsqueeze."""
    c = 4 * channels
    parts = [diffeo.Inverse(diffeo.Squeeze())]
    for k in range(steps):
        parts += [diffeo.ActNorm2d(c), diffeo.InvertibleConv1x1(c, seed=seed + k),
                  diffeo.ConvCoupling(c, hidden_channels=8)]
    return parts + [diffeo.Squeeze()]


def test_a_glow_chain_from_the_python_pieces_is_the_registered_glow():
    torch.manual_seed(0)  # as flows.build seeds the global generator with the spec's seed
    pieces = diffeo.Transformed(diffeo.StandardNormal(16),
                                diffeo.Reshaped(diffeo.Chain(glow_level(1, steps=2, seed=0)), [1, 4, 4]))
    built = diffeo.flows.build("glow", dim=16, image_shape=[1, 4, 4], levels=1, layers=2, hidden=[8], seed=0)
    x = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
    assert torch.equal(pieces.log_prob(x), built.log_prob(x))  # ActNorm initialised from x in both
    assert [p.shape for p in pieces.parameters()] == [p.shape for p in built.parameters()]


def test_a_glow_like_chain_is_the_sum_of_its_parts():
    torch.manual_seed(1)
    # Level 2 on [2, 2, 2] (-> [8, 1, 1]) inside level 1's factor-out on [4, 2, 2] ([1, 4, 4] squeezed).
    inner = diffeo.Chain(glow_level(2, steps=1, seed=7))
    level = glow_level(1, steps=1, seed=3)
    level.insert(-1, diffeo.FactorOut(4, inner, hidden_channels=8, zero_last_layer=False))
    flow = diffeo.Transformed(diffeo.StandardNormal(16), diffeo.Reshaped(diffeo.Chain(level), [1, 4, 4])).to(F64)
    for part in level:
        off_identity(part, 11)
    x = image((20, 16), 12)
    log_prob = flow.log_prob(x)  # initialises every ActNorm from x
    # The density direction by hand: the parts' inverses in reverse chain order, their
    # log-dets summed, plus the base's log-density of the result.
    z, total = x.reshape(20, 1, 4, 4), torch.zeros(20, dtype=F64)
    for part in level:
        z, log_det = part.inverse_and_log_det(z)
        total += log_det
    assert z.shape == (20, 1, 4, 4)
    expected = diffeo.StandardNormal(16).to(F64).log_prob(z.reshape(20, 16)) + total
    assert torch.allclose(log_prob, expected, atol=1e-10, rtol=0)
    assert_inverts_with_the_jacobians_log_det(diffeo.Reshaped(diffeo.Chain(level), [1, 4, 4]), x[:2])
    draws = flow.sample(5, generator=3)
    assert draws.shape == (5, 16) and torch.isfinite(flow.log_prob(draws)).all()


def test_a_glow_like_chain_trains_through_fit():
    torch.manual_seed(2)
    flow = diffeo.Transformed(diffeo.StandardNormal(16),
                              diffeo.Reshaped(diffeo.Chain(glow_level(1, steps=2, seed=0)), [1, 4, 4]))
    g = torch.Generator().manual_seed(3)  # correlated pixels: a smooth ramp plus noise
    data = (torch.linspace(-1, 1, 16) * torch.randn(2000, 1, generator=g) + 0.3 * torch.randn(2000, 16, generator=g))
    history = diffeo.fit(flow, data, steps=150, batch_size=64, lr=3e-3, validate_every=0)
    first, last = sum(history["train_loss"][:10]) / 10, sum(history["train_loss"][-10:]) / 10
    assert last < first - 5.0


def test_bad_image_arguments_raise_diffeo_error():
    cases = [
        (lambda: diffeo.Squeeze().forward(torch.zeros(2, 1, 3, 4)), "even H and W"),
        (lambda: diffeo.Squeeze().inverse(torch.zeros(2, 6, 2, 2)), "multiple of 4"),
        (lambda: diffeo.Squeeze().forward(torch.zeros(4, 4)), "at least 3 dimension"),
        (lambda: diffeo.ConvCoupling(1), "channels"),
        (lambda: diffeo.ConvCoupling(4, transform="wavelet"), "transform"),
        (lambda: diffeo.ConvCoupling(4, activation="nope"), "activation"),
        (lambda: diffeo.ConvCoupling(4).forward(torch.zeros(2, 3, 4, 4)), "channels"),
        (lambda: diffeo.FactorOut(4, diffeo.LULinear(2)), "event rank 3"),
        (lambda: diffeo.ActNorm2d(3).inverse(torch.zeros(2, 3, 4)), "event size 3"),  # 2 channels, unbatched
        (lambda: diffeo.ActNorm2d(3).inverse(torch.zeros(3, 4)), "at least 3 dimension"),
        (lambda: diffeo.Pixelwise(diffeo.Squeeze()), "vector"),
        (lambda: diffeo.Reshaped(diffeo.Squeeze(), [1, 4, 4]).forward(torch.zeros(2, 15)), "16"),
    ]
    for call, words in cases:
        with pytest.raises(diffeo.Error, match=words):
            call()


def test_hint_bijectors_invert_and_their_log_dets_are_the_jacobians():
    torch.manual_seed(3)
    x = image((4, 5), 13)
    coupling = diffeo.HierarchicalCoupling(5, hidden=[16], identity_init=False).to(F64)
    hint = off_identity(diffeo.HINT(5, layers=2, hidden=[16]).to(F64), 14)
    conditional = diffeo.HierarchicalCoupling(5, hidden=[16], context_features=2, identity_init=False).to(F64)
    for bijector in (coupling, hint, diffeo.Householder(5, seed=2).to(F64)):
        assert_inverts_with_the_jacobians_log_det(bijector, x)
    context = image((4, 2), 15)
    assert_inverts_with_the_jacobians_log_det(conditional, x, context)
    # The hierarchical coupling's Jacobian is lower triangular.
    jacobian = torch.autograd.functional.jacobian(lambda v: coupling.forward(v.unsqueeze(0))[0], x[0])
    assert torch.equal(torch.triu(jacobian, 1), torch.zeros(5, 5, dtype=F64))
    assert not torch.allclose(torch.tril(jacobian, -1), torch.zeros(5, 5, dtype=F64))
    # Householder: orthogonal, so log-det exactly 0.
    y, log_det = diffeo.Householder(5, seed=2).to(F64).forward_and_log_det(x)
    assert torch.allclose(y.norm(dim=1), x.norm(dim=1), atol=1e-12) and torch.equal(log_det, torch.zeros(4, dtype=F64))


def test_the_hint_bijector_is_the_registered_hint_flows():
    pieces = diffeo.Transformed(diffeo.StandardNormal(3), diffeo.HINT(3, layers=2, hidden=[16], seed=4))
    built = diffeo.flows.build("hint", dim=3, layers=2, hidden=[16], seed=4)
    for a, b in zip(pieces.parameters(), built.parameters(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(pieces.log_prob(x), built.log_prob(x))


def pairs(n, seed):
    """x ~ N(0, I_2) observed through y = (x1 + x2, x1 x2, x1 - x2 / 2) + N(0, 0.1^2 I_3)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = torch.stack([x[:, 0] + x[:, 1], x[:, 0] * x[:, 1], x[:, 0] - 0.5 * x[:, 1]], 1)
    return x, y + 0.1 * torch.randn(n, 3, generator=g)


def test_conditional_hint_densities_and_latents_agree():
    model = diffeo.ConditionalHINT(2, 3, layers=2, hidden=[16], seed=3).to(F64)
    off_identity(model, 16)
    x, y = (t.to(F64) for t in pairs(6, 2))
    z_x, z_y, log_det_x, log_det_y = model.encode(x, y)
    back_x, back_y = model.decode(z_x, z_y)
    assert torch.allclose(back_x, x, atol=1e-10) and torch.allclose(back_y, y, atol=1e-10)
    normal = diffeo.StandardNormal
    assert torch.allclose(model.log_prob_y(y), normal(3).to(F64).log_prob(z_y) + log_det_y, atol=1e-10)
    assert torch.allclose(model.log_prob(x, y), model.log_prob_y(y) + model.log_prob_x_given_y(x, y), atol=1e-10)
    assert torch.allclose(model.log_prob_x_given_y(x, y), normal(2).to(F64).log_prob(z_x) + log_det_x, atol=1e-10)
    # The joint map's log|det| is the lanes' sum; z_y depends on y only (block triangular).
    for row in range(len(x)):
        def joint(v):
            zx, zy, _, _ = model.encode(v[:2].unsqueeze(0), v[2:].unsqueeze(0))
            return torch.cat([zx[0], zy[0]])
        jacobian = torch.autograd.functional.jacobian(joint, torch.cat([x[row], y[row]]))
        assert (log_det_x[row] + log_det_y[row]).item() == pytest.approx(
            torch.linalg.slogdet(jacobian)[1].item(), abs=1e-8)
        assert torch.equal(jacobian[2:, :2], torch.zeros(3, 2, dtype=F64))
    draws_x, draws_y = model.sample_joint(7, generator=1)
    assert draws_x.shape == (7, 2) and draws_y.shape == (7, 3)
    assert model.sample_posterior(y[0], 9, generator=2).shape == (9, 2)
    assert torch.equal(model.sample_posterior(y[0], 9, generator=2), model.sample_posterior(y[:1], 9, generator=2))


def test_conditional_hint_learns_with_torch_optim_and_with_fit():
    x, y = pairs(4000, 0)
    test_x, test_y = pairs(2000, 1)
    model = diffeo.ConditionalHINT(2, 3, layers=3, hidden=[32, 32], seed=1)
    engine = diffeo.ConditionalHINT(2, 3, layers=3, hidden=[32, 32], seed=1)
    with torch.no_grad():
        before = -model.log_prob(test_x, test_y).mean().item()
        assert -engine.log_prob(test_x, test_y).mean().item() == before  # the seed fixes the weights
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        rows = torch.randint(len(x), (128,), generator=g)
        loss = -model.log_prob(x[rows], y[rows]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    history = diffeo.fit(engine, x, context=y, steps=300, batch_size=128, lr=3e-3, validation=test_x,
                         validation_context=test_y, validate_every=150)
    with torch.no_grad():
        after = -model.log_prob(test_x, test_y).mean().item()
        engine_after = -engine.log_prob(test_x, test_y).mean().item()
    assert before > 6.0 and after < before - 5.0 and engine_after < before - 5.0  # ~7.8 -> ~0.8
    assert [step for step, _ in history["validation_loss"]] == [150, 300]
    assert history["best_validation"] == pytest.approx(engine_after, abs=1e-5)
    # y nearly pins x down: the posterior draws gather at the truth.
    with torch.no_grad():
        for row in range(3):
            draws = model.sample_posterior(test_y[row], 2000, generator=row)
            assert (draws.mean(0) - test_x[row]).abs().max() < 0.35 and draws.std(0).max() < 0.5


def test_bad_hint_arguments_raise_diffeo_error():
    model = diffeo.ConditionalHINT(2, 3, layers=1, hidden=[8])
    x, y = pairs(10, 3)
    cases = [
        (lambda: diffeo.ConditionalHINT(0, 3), "x_dim"),
        (lambda: model.log_prob(x, y[:, :2]), "y"),
        (lambda: model.log_prob(x[:5], y), "batch shape"),
        (lambda: model.sample_posterior(y[:2], 5), "one observation"),
        (lambda: model.sample_joint(0), "n"),
        (lambda: diffeo.fit(model, "banana"), "pairs"),
        (lambda: diffeo.fit(model, x, steps=5), "context"),
        (lambda: diffeo.fit(model, x, context=y, validation=x, steps=5), "validation_context"),
        (lambda: diffeo.HierarchicalCoupling(0), "dim"),
        (lambda: diffeo.HINT(3, hidden=[]), "hidden"),
        (lambda: diffeo.Householder(3, reflections=-1), "reflections"),
        (lambda: diffeo.HINT(3).forward(torch.zeros(2, 4)), "event"),
    ]
    for call, words in cases:
        with pytest.raises(diffeo.Error, match=words):
            call()
