"""diffeo: normalizing flows in C++ on LibTorch, from Python.

    import torch, diffeo
    flow = diffeo.flows.build("nsf", dim=2, bins=8)
    history = diffeo.fit(flow, "banana", steps=2000)     # the C++ training engine (standardises
                                                         # the flow first, as `diffeo train` does)
    x = flow.sample(1000, generator=0)                   # torch tensors
    loss = -flow.log_prob(x).mean(); loss.backward()     # autograd reaches diffeo's weights
    diffeo.save(flow, "banana.flow")                     # the CLI's model format

Errors are diffeo.Error, a ValueError, with the C++ message.
"""

import torch  # noqa: F401  (loads LibTorch and its Python type casters first)

from ._core import (  # noqa: F401
    HINT, ActNorm, ActNorm2d, BatchNorm, BernsteinPolynomial, Bijector, Block, Chain, ConditionalHINT, ConvCoupling,
    Coupling, Distribution, Error, FactorOut, Flow, HierarchicalCoupling, Householder, Inverse, InvertibleConv1x1,
    LULinear, MaskedAutoregressive, Normal, Permute, Pixelwise, RandomPermutation, RationalQuadraticSpline, Reshaped,
    Rotation2D, Scale, Shift, SoftClip, Squeeze, StandardNormal, ToyDensity, Transformed, bits_per_dim, fashion_mnist,
    fit, fit_reverse_kl, load, sample_images, save)
from . import densities, flows, optim  # noqa: F401
