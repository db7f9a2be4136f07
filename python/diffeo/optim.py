"""diffeo's optimizer for Python training loops: diffeo.optim.Adam(flow.parameters(), lr=1e-3)."""

from ._core import FlatAdam


def Adam(parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):  # noqa: N802 (named like torch.optim.Adam)
    """torch.optim.Adam's update on one flat buffer (FlatAdam), for any iterable of parameters:
    a diffeo flow's, or those of any torch.nn.Module."""
    return FlatAdam(list(parameters), lr=lr, betas=betas, eps=eps)
