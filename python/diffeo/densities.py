"""The toy densities: diffeo.densities.get("banana").sample(1000)."""

from . import _core


def get(name):
    """The toy density `name`: .sample(n, seed=0) and .log_prob(x)."""
    return _core.density(name)


def names():
    return _core.density_names()
