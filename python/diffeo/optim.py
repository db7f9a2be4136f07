"""diffeo's optimizer for Python training loops: diffeo.optim.Adam(flow.parameters(), lr=1e-3)."""

from ._core import FlatAdam as Adam  # noqa: F401
