"""Real NVP, MAF and NSF built from nflows, zuko and normflows, for bench/python_bench.py.

Optional: each library is imported only if it is on PYTHONPATH (bench/README.md says how to
get the versions used); absent ones are skipped with a note on stderr. The models follow the
baseline (bench/baseline/flows.py) as closely as each library's own API allows: 2-D, a
standard-normal base, conditioners of two hidden ReLU layers of width `hidden`; Real NVP = 8
affine couplings, MAF = 5 MADE affine layers, NSF = 4 rational-quadratic spline couplings
with 8 bins on [-6, 6] and identity tails, consecutive layers acting on opposite features.
Every model's log_prob(x) takes the fast direction: one conditioner pass per layer.

What still differs (scale maps, spline parameterisations, initialisations, masks) is listed
in docs/python.md ("Against nflows, zuko and normflows") and commented at each model below.
"""

import importlib
import sys

import torch
from torch import nn

FLOW_LAYERS = {"realnvp": 8, "maf": 5, "nsf": 4}
BINS = 8
BOUND = 6.0


class ContextFree(nn.Module):
    """A conditioner net called as net(x, context) by nflows' and normflows' couplings."""

    def __init__(self, net, hidden):
        super().__init__()
        self.net = net
        self.hidden_features = hidden  # read by their spline couplings to scale the logits

    def forward(self, inputs, context=None):
        return self.net(inputs)


def interleave(layers, between):
    """Puts between() between consecutive layers."""
    chain = [layers[0]]
    for layer in layers[1:]:
        chain += [between(), layer]
    return chain


def nflows_model(flow, hidden):
    """nflows: its plain MLP (its couplings default to a residual net) and MADE without
    residual blocks; ReversePermutation between the layers. Its coupling scale is
    sigmoid(a + 2) + 1e-3, its MAF scale softplus(a) + 1e-3; its spline coupling divides the
    width and height logits by sqrt(hidden), as for its own nets."""
    from nflows import distributions, flows, transforms
    from nflows.nn.nets import MLP

    def conditioner(in_features, out_features):
        return ContextFree(MLP((in_features,), (out_features,), [hidden, hidden]), hidden)

    mask = torch.tensor([0, 1])  # feature 0 conditions feature 1
    if flow == "realnvp":
        layers = [transforms.AffineCouplingTransform(mask, conditioner) for _ in range(FLOW_LAYERS[flow])]
    elif flow == "maf":
        layers = [transforms.MaskedAffineAutoregressiveTransform(
            features=2, hidden_features=hidden, num_blocks=1, use_residual_blocks=False)
            for _ in range(FLOW_LAYERS[flow])]
    else:
        layers = [transforms.PiecewiseRationalQuadraticCouplingTransform(
            mask, conditioner, num_bins=BINS, tails="linear", tail_bound=BOUND)
            for _ in range(FLOW_LAYERS[flow])]
    chain = interleave(layers, lambda: transforms.ReversePermutation(features=2))
    return flows.Flow(transforms.CompositeTransform(chain), distributions.StandardNormal([2]))


class ZukoModel(nn.Module):
    """A zuko flow with the log_prob(x) of the other models: zuko builds the distribution
    from its lazy modules on each call."""

    def __init__(self, flow):
        super().__init__()
        self.flow = flow

    def log_prob(self, x):
        return self.flow().log_prob(x)


def zuko_model(flow, hidden):
    """zuko: alternating coupling masks instead of a Reverse layer (the same map in 2-D); its
    MAF's own MaskedMLP masks and alternating order. zuko.flows.NSF is autoregressive (a
    coupling through a masked MLP when passes=2), so the NSF takes its split coupling,
    GeneralCouplingTransform, with MonotonicRQSTransform at bound 6 (zuko's default is 5).
    Affine scale: exp of a soft-clipped a."""
    from functools import partial

    import zuko

    if flow == "realnvp":
        return ZukoModel(zuko.flows.RealNVP(2, transforms=FLOW_LAYERS[flow], hidden_features=(hidden, hidden)))
    if flow == "maf":
        return ZukoModel(zuko.flows.MAF(2, transforms=FLOW_LAYERS[flow], hidden_features=(hidden, hidden)))
    couplings = [zuko.flows.GeneralCouplingTransform(
        2, mask=torch.arange(2) % 2 == i % 2,
        univariate=partial(zuko.transforms.MonotonicRQSTransform, bound=BOUND),
        shapes=[(BINS,), (BINS,), (BINS - 1,)], hidden_features=(hidden, hidden))
        for i in range(FLOW_LAYERS[flow])]
    base = zuko.flows.UnconditionalDistribution(
        zuko.distributions.DiagNormal, loc=torch.zeros(2), scale=torch.ones(2), buffer=True)
    return ZukoModel(zuko.flows.Flow(couplings, base))


def normflows_model(flow, hidden):
    """normflows: its MLP's ReLU is LeakyReLU(0.0); Permute(mode="swap") between the layers.
    MaskedAffineAutoregressive is fast in normflows' sampling direction (bare, its log_prob
    would take 2 passes per layer), so it is wrapped in normflows' flows.Reverse, as its own
    spline wrappers are. CoupledRationalQuadraticSpline fixes a residual net and adds an
    unconditional spline on the other half, so the NSF takes the coupling it wraps,
    PiecewiseRationalQuadraticCoupling, with an MLP, in flows.Reverse as that wrapper does.
    Affine scale: exp(a) in the coupling, sigmoid(a + 2) + 1e-3 in the MAF."""
    import normflows as nf
    from normflows.flows.neural_spline.coupling import PiecewiseRationalQuadraticCoupling

    def conditioner(in_features, out_features):
        return ContextFree(nf.nets.MLP([in_features, hidden, hidden, out_features]), hidden)

    if flow == "realnvp":
        layers = [nf.flows.AffineCouplingBlock(nf.nets.MLP([1, hidden, hidden, 2], init_zeros=True))
                  for _ in range(FLOW_LAYERS[flow])]
    elif flow == "maf":
        layers = [nf.flows.Reverse(nf.flows.MaskedAffineAutoregressive(
            2, hidden, num_blocks=1, use_residual_blocks=False)) for _ in range(FLOW_LAYERS[flow])]
    else:
        layers = [nf.flows.Reverse(PiecewiseRationalQuadraticCoupling(
            torch.tensor([0, 1]), conditioner, num_bins=BINS, tails="linear", tail_bound=BOUND))
            for _ in range(FLOW_LAYERS[flow])]
    chain = interleave(layers, lambda: nf.flows.Permute(2, mode="swap"))
    return nf.NormalizingFlow(nf.distributions.DiagGaussian(2, trainable=False), chain)


BUILDERS = {"nflows": nflows_model, "zuko": zuko_model, "normflows": normflows_model}


def available(names=tuple(BUILDERS)):
    """The builders, model(flow, hidden), of the named libraries that import; a note on stderr
    for each that does not."""
    found = {}
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            print(f"python_libraries: {name} skipped ({error}); bench/README.md says how to "
                  "put it on PYTHONPATH", file=sys.stderr)
            continue
        version = getattr(module, "__version__", None)
        if version is None:  # nflows keeps it in nflows.version
            try:
                version = importlib.import_module(f"{name}.version").__version__
            except (ImportError, AttributeError):
                version = "?"
        print(f"python_libraries: {name} {version} from {module.__file__}", file=sys.stderr)
        found[name] = BUILDERS[name]
    return found


def make_model(builder, flow, hidden):
    torch.manual_seed(0)
    return builder(flow, hidden)
