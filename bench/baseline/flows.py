"""Real NVP, MAF and NSF on 2-D data, written the way a PyTorch user writes them.

The plain-PyTorch baseline of diffeo's benchmark (bench/README.md): the same
architectures as diffeo's flows, as nn.Module classes with no fusing or tricks.
Every layer maps base space to data space in forward() (the sampling direction)
and data space to base space in inverse() (the density direction); both return
the transformed tensor and the log-determinant of that map, one value per row.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

LOG_SCALE_BOUND = 3.0
SPLINE_BOUND = 6.0
MIN_BIN_SIZE = 1e-3
MIN_DERIVATIVE = 1e-3


def mlp(in_features, hidden, out_features):
    """Linear-ReLU-Linear-ReLU-Linear with the last layer zeroed (identity flow at init)."""
    net = nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, out_features))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


def affine_params(params):
    """Shift and soft-clamped log-scale from [..., 2] parameters."""
    shift = params[..., 0]
    log_scale = LOG_SCALE_BOUND * torch.tanh(params[..., 1] / LOG_SCALE_BOUND)
    return shift, log_scale


def rational_quadratic_spline(x, params, inverse=False, num_bins=8):
    """Elementwise monotone rational-quadratic spline (Durkan et al. 2019) on [-B, B].

    params has shape x.shape + (3 * num_bins - 1,): width logits, height logits and
    interior derivative parameters. Outside [-B, B] the spline is the identity.
    Returns the output and the elementwise log-derivative.
    """
    inside = (x >= -SPLINE_BOUND) & (x <= SPLINE_BOUND)
    out = x.clone()
    logdet = torch.zeros_like(x)
    out[inside], logdet[inside] = _spline_inside(x[inside], params[inside], inverse, num_bins)
    return out, logdet


def _knots(logits, num_bins):
    """Bin sizes and knot positions from [N, K] logits; knots run from -B to B."""
    sizes = MIN_BIN_SIZE + (1 - MIN_BIN_SIZE * num_bins) * torch.softmax(logits, dim=-1)
    knots = F.pad(torch.cumsum(sizes, dim=-1), (1, 0))
    knots = 2 * SPLINE_BOUND * knots - SPLINE_BOUND
    knots[..., 0] = -SPLINE_BOUND
    knots[..., -1] = SPLINE_BOUND
    return knots[..., 1:] - knots[..., :-1], knots


def _gather(values, index):
    return values.gather(-1, index).squeeze(-1)


def _spline_inside(x, params, inverse, num_bins):
    """The spline on a flat tensor x of points inside [-B, B], params [N, 3K-1]."""
    k = num_bins
    widths, x_knots = _knots(params[..., :k], k)
    heights, y_knots = _knots(params[..., k:2 * k], k)
    interior = 1 + (1 - MIN_DERIVATIVE) * (F.softplus(params[..., 2 * k:]) / math.log(2) - 1)
    derivatives = F.pad(interior, (1, 1), value=1.0)

    knots = y_knots if inverse else x_knots
    bin_index = torch.searchsorted(knots, x[..., None], right=True) - 1
    bin_index = bin_index.clamp(0, k - 1)

    x_k = _gather(x_knots, bin_index)
    y_k = _gather(y_knots, bin_index)
    w = _gather(widths, bin_index)
    h = _gather(heights, bin_index)
    d_k = _gather(derivatives, bin_index)
    d_k1 = _gather(derivatives, bin_index + 1)
    slope = h / w
    curvature = d_k + d_k1 - 2 * slope

    if inverse:
        dy = x - y_k
        a = h * (slope - d_k) + dy * curvature
        b = h * d_k - dy * curvature
        c = -slope * dy
        discriminant = (b.pow(2) - 4 * a * c).clamp(min=0)
        xi = 2 * c / (-b - torch.sqrt(discriminant))
    else:
        xi = (x - x_k) / w
    xi_one_minus_xi = xi * (1 - xi)
    denominator = slope + curvature * xi_one_minus_xi
    if inverse:
        out = x_k + xi * w
    else:
        out = y_k + h * (slope * xi.pow(2) + d_k * xi_one_minus_xi) / denominator
    derivative_numerator = slope.pow(2) * (
        d_k1 * xi.pow(2) + 2 * slope * xi_one_minus_xi + d_k * (1 - xi).pow(2))
    logdet = torch.log(derivative_numerator) - 2 * torch.log(denominator)
    return out, -logdet if inverse else logdet


class Reverse(nn.Module):
    """Reverses the feature order (its own inverse, log-det 0)."""

    def forward(self, x):
        return x.flip(-1), x.new_zeros(x.shape[:-1])

    inverse = forward


class Coupling(nn.Module):
    """Split coupling: x_a = x[..., :split] conditions an elementwise map of x_b."""

    params_per_feature = None  # set by the subclass, which defines transform()

    def __init__(self, dim, hidden):
        super().__init__()
        self.split = dim // 2
        self.conditioner = mlp(self.split, hidden, self.params_per_feature * (dim - self.split))

    def _couple(self, x, inverse):
        x_a, x_b = x[..., :self.split], x[..., self.split:]
        params = self.conditioner(x_a).reshape(*x_b.shape, self.params_per_feature)
        y_b, logdet = self.transform(x_b, params, inverse)
        return torch.cat([x_a, y_b], dim=-1), logdet.sum(-1)

    def forward(self, x):
        return self._couple(x, inverse=False)

    def inverse(self, y):
        return self._couple(y, inverse=True)


class AffineCoupling(Coupling):
    """Real NVP coupling: y_b = x_b * exp(log_scale(x_a)) + shift(x_a)."""

    params_per_feature = 2

    @staticmethod
    def transform(x_b, params, inverse):
        shift, log_scale = affine_params(params)
        if inverse:
            return (x_b - shift) * torch.exp(-log_scale), -log_scale
        return x_b * torch.exp(log_scale) + shift, log_scale


class SplineCoupling(Coupling):
    """NSF coupling: y_b = rational-quadratic spline of x_b with knots from x_a."""

    num_bins = 8
    params_per_feature = 3 * num_bins - 1

    def transform(self, x_b, params, inverse):
        return rational_quadratic_spline(x_b, params, inverse, self.num_bins)


class MaskedLinear(nn.Linear):
    """Linear layer whose weight is multiplied by a fixed 0/1 mask."""

    def __init__(self, in_features, out_features, mask):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked autoencoder (Germain et al. 2015): params_per_feature outputs per input feature,
    hidden layers of the given widths."""

    def __init__(self, dim, widths, params_per_feature, reverse_order):
        super().__init__()
        self.params_per_feature = params_per_feature
        in_degrees = torch.arange(1, dim + 1)
        if reverse_order:
            in_degrees = in_degrees.flip(0)
        layers, previous = [], in_degrees
        for width in widths:
            degrees = torch.arange(width) % max(dim - 1, 1) + 1
            layers += [MaskedLinear(len(previous), width, degrees[:, None] >= previous), nn.ReLU()]
            previous = degrees
        out_degrees = in_degrees.repeat_interleave(params_per_feature)
        layers.append(
            MaskedLinear(len(previous), len(out_degrees), out_degrees[:, None] > previous))
        self.net = nn.Sequential(*layers)
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x):
        return self.net(x).reshape(*x.shape, self.params_per_feature)


class MaskedAffineAutoregressive(nn.Module):
    """MAF layer: y_i = x_i * exp(log_scale_i(y_<i)) + shift_i(y_<i)."""

    def __init__(self, dim, widths, reverse_order):
        super().__init__()
        self.dim = dim
        self.made = MADE(dim, widths, 2, reverse_order)

    def forward(self, x):
        y = torch.zeros_like(x)
        for _ in range(self.dim):
            shift, log_scale = affine_params(self.made(y))
            y = x * torch.exp(log_scale) + shift
        return y, log_scale.sum(-1)

    def inverse(self, y):
        shift, log_scale = affine_params(self.made(y))
        return (y - shift) * torch.exp(-log_scale), -log_scale.sum(-1)


def standard_normal_log_prob(z):
    return -0.5 * z.pow(2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


class Flow(nn.Module):
    """A standard-normal base pushed through a chain of layers (the first applied first)."""

    def __init__(self, dim, layers):
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(layers)

    def transform(self, z):
        """Base space -> data space, with the log-determinant."""
        logdet = 0
        for layer in self.layers:
            z, layer_logdet = layer(z)
            logdet = logdet + layer_logdet
        return z, logdet

    def inverse(self, y):
        """Data space -> base space, with the log-determinant."""
        logdet = 0
        for layer in reversed(self.layers):
            y, layer_logdet = layer.inverse(y)
            logdet = logdet + layer_logdet
        return y, logdet

    def log_prob(self, y):
        z, logdet = self.inverse(y)
        return standard_normal_log_prob(z) + logdet

    def sample(self, n):
        return self.transform(torch.randn(n, self.dim))[0]


def with_reverses(layers):
    """Interleaves Reverse between consecutive layers."""
    chain = [layers[0]]
    for layer in layers[1:]:
        chain += [Reverse(), layer]
    return chain


class RealNVP(Flow):
    """8 affine split couplings with reverses in between (Dinh et al. 2017)."""

    def __init__(self, dim=2, hidden=64, num_couplings=8):
        couplings = [AffineCoupling(dim, hidden) for _ in range(num_couplings)]
        super().__init__(dim, with_reverses(couplings))


class MAF(Flow):
    """5 MADE affine layers, every odd one with reversed degrees (Papamakarios et al. 2017)."""

    def __init__(self, dim=2, hidden=64, num_layers=5):
        super().__init__(dim, [MaskedAffineAutoregressive(dim, [hidden, hidden],
                                                          reverse_order=i % 2 == 1)
                               for i in range(num_layers)])


class NSF(Flow):
    """4 rational-quadratic spline couplings with reverses in between (Durkan et al. 2019)."""

    def __init__(self, dim=2, hidden=64, num_couplings=4):
        couplings = [SplineCoupling(dim, hidden) for _ in range(num_couplings)]
        super().__init__(dim, with_reverses(couplings))


MODELS = {"realnvp": RealNVP, "maf": MAF, "nsf": NSF}
