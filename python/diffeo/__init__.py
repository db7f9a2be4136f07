"""diffeo: normalizing flows in C++ on LibTorch, from Python.

    import torch, diffeo
    banana = diffeo.densities.get("banana")
    flow = diffeo.flows.build("nsf", dim=2, bins=8, standardize=banana.sample(10000, seed=2))
    history = diffeo.fit(flow, "banana", steps=2000)     # the C++ training engine
    x = flow.sample(1000, generator=0)                   # torch tensors
    loss = -flow.log_prob(x).mean(); loss.backward()     # autograd reaches diffeo's weights
    diffeo.save(flow, "banana.flow")                     # the CLI's model format

Errors are diffeo.Error, a ValueError, with the C++ message.
"""

import torch  # noqa: F401  (loads LibTorch and its Python type casters first)

from ._core import (  # noqa: F401
    ActNorm, BatchNorm, BernsteinPolynomial, Bijector, Block, Chain, Coupling, Distribution, Error,
    Flow,
    Inverse, LULinear, MaskedAutoregressive, Normal, Permute, RandomPermutation, RationalQuadraticSpline, Rotation2D,
    Scale, Shift, SoftClip, StandardNormal, ToyDensity, Transformed, bits_per_dim, fashion_mnist,
    fit, fit_reverse_kl, load, sample_images, save)
from . import densities, flows, optim  # noqa: F401
