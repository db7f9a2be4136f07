"""Building flows: diffeo.flows.build("maf", dim=2, layers=5, hidden=[64, 64])."""

from . import _core


def build(name, dim=None, spec=None, **options):
    """The flow `name` over vectors of size `dim`, with FlowOptions' keyword
    options (layers, hidden, bins, transform, context_features, seed, ...);
    or, with spec= (a dict such as Flow.spec), the flow that spec describes."""
    if spec is not None:
        return _core.build_flow_from_spec(spec)
    if dim is None:
        raise _core.Error("diffeo.flows.build: argument 'dim' is required (the vectors' size)")
    return _core.build_flow(name, dim, **options)


def names():
    """The registered flow names: the CLI's --flow values."""
    return _core.flow_names()
