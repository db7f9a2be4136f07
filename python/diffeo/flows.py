"""Building flows: diffeo.flows.build("maf", dim=2, layers=5, hidden=[64, 64])."""

from . import _core


def build(name, dim=None, spec=None, standardize=None, logit=None, **options):
    """The flow `name` over vectors of size `dim`, with FlowOptions' keyword
    options (layers, hidden, bins, transform, context_features, seed, ...);
    or, with spec= (a dict such as Flow.spec), the flow that spec describes.

    standardize: data [n, dim] (a tensor or array); the flow then models
    (x - mean) / std internally, as the CLI does, and works in data units.
    (diffeo.fit on a toy density by name standardises a flow built without
    it by a pilot sample, as `diffeo train --density` does.)
    logit: lambda of the MAF paper's logit preprocessing for image flows (data
    in [0, 1]^dim, e.g. 1e-6; give image_shape=[C, H, W] too), as
    `diffeo train --dataset` builds them."""
    if spec is not None:
        return _core.build_flow_from_spec(spec)
    if dim is None:
        raise _core.Error("diffeo.flows.build: argument 'dim' is required (the vectors' size)")
    flow = _core.build_flow(name, dim, **options)
    if standardize is None and logit is None:
        return flow
    spec = flow.spec
    if standardize is not None:
        import torch
        data = torch.as_tensor(standardize, dtype=torch.float64).reshape(-1, dim)
        spec["standardize"] = {"mean": data.mean(0).tolist(), "scale": data.std(0).tolist()}
    if logit is not None:
        spec["logit"] = {"lambda": logit}
    return _core.build_flow_from_spec(spec)


def names():
    """The registered flow names: the CLI's --flow values."""
    return _core.flow_names()
