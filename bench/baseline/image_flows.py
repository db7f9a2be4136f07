"""MAF, NSF and multi-scale Glow on 8-bit images, written the way a PyTorch user writes them.

The plain-PyTorch baseline of the benchmark's image workloads (bench/README.md): the
architectures of `diffeo train --dataset fashion-mnist` (cli/train_images.cpp) with its
default sizes, on flat images [batch, C * H * W] in the unit cube, in the conventions of
flows.py (forward() is the sampling direction, inverse() the density direction, each
returning the output and the log-determinant per row). Every model ends with the MAF
paper's logit preprocessing, which diffeo's "logit" flow spec adds.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

import flows
from flows import AffineCoupling, Flow, SplineCoupling, with_reverses

LOGIT_LAMBDA = 1e-6
IMAGE_SPLINE_BOUND = 15.0  # covers logit(LOGIT_LAMBDA) = -13.8
MAX_LEVELS = 3


class Logit(nn.Module):
    """Unit-cube data v from logit space y: v = (sigmoid(y) - lam) / (1 - 2 lam)."""

    def __init__(self, lam=LOGIT_LAMBDA):
        super().__init__()
        self.lam = lam

    def forward(self, y):
        log_sigmoid_derivative = -F.softplus(-y) - F.softplus(y)
        logdet = log_sigmoid_derivative.sum(-1) - y.shape[-1] * math.log(1 - 2 * self.lam)
        return (torch.sigmoid(y) - self.lam) / (1 - 2 * self.lam), logdet

    def inverse(self, v):
        s = self.lam + (1 - 2 * self.lam) * v
        log_s, log_one_minus_s = torch.log(s), torch.log1p(-s)
        logdet = v.shape[-1] * math.log(1 - 2 * self.lam) - (log_s + log_one_minus_s).sum(-1)
        return log_s - log_one_minus_s, logdet


class Checkerboard(nn.Module):
    """Reads a flat [C, H, W] image with the pixels of even h + w first (density direction)."""

    def __init__(self, shape):
        super().__init__()
        channels, height, width = shape
        index = torch.arange(channels * height * width)
        even = (index // width + index % width) % 2 == 0
        order = torch.cat([index[even], index[~even]])
        self.register_buffer("order", order)
        self.register_buffer("inverse_order", torch.argsort(order))

    def forward(self, z):
        return z[..., self.inverse_order], z.new_zeros(z.shape[:-1])

    def inverse(self, y):
        return y[..., self.order], y.new_zeros(y.shape[:-1])


class ImageSplineCoupling(SplineCoupling):
    """NSF's image coupling: flows.py's spline with 4 bins on [-15, 15] instead of 8 on [-6, 6]."""

    num_bins = 4
    params_per_feature = 3 * num_bins - 1

    def transform(self, x_b, params, inverse):
        # The spline on [-B, B] is flows.py's on [-6, 6] scaled by B / 6 in x and y:
        # knots scale with B, slopes and the log-derivative do not.
        scale = IMAGE_SPLINE_BOUND / flows.SPLINE_BOUND
        out, logdet = flows.rational_quadratic_spline(x_b / scale, params, inverse, self.num_bins)
        return out * scale, logdet


def squeeze(x):
    """[B, C, H, W] -> [B, 4C, H/2, W/2]: channel 4c + 2i + j at (h, w) is c at (2h + i, 2w + j)."""
    b, c, h, w = x.shape
    patches = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return patches.reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze(x):
    b, c, h, w = x.shape
    patches = x.reshape(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return patches.reshape(b, c // 4, 2 * h, 2 * w)


def image_logdet(logdet_per_pixel, x):
    """A per-channel log-det [C] summed over a batch of images x [B, C, H, W]."""
    return (logdet_per_pixel.sum() * x.shape[-2] * x.shape[-1]).expand(x.shape[0])


class ActNorm2d(nn.Module):
    """y = x * exp(log_scale) + loc per channel; the first training batch in the density
    direction sets loc and scale to its mean and standard deviation over batch and pixels."""

    def __init__(self, channels):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x):
        return x * torch.exp(self.log_scale) + self.loc, image_logdet(self.log_scale, x)

    def inverse(self, y):
        if self.training and not self.initialized:
            with torch.no_grad():
                self.loc.copy_(y.mean((0, 2, 3), keepdim=True))
                deviation = y.std((0, 2, 3), unbiased=False, keepdim=True)
                self.log_scale.copy_(torch.log(deviation + 1e-6))
                self.initialized.fill_(True)
        return (y - self.loc) * torch.exp(-self.log_scale), image_logdet(-self.log_scale, y)


class InvertibleConv1x1(nn.Module):
    """Glow's invertible 1x1 convolution y = W x + b with W = P L (U + diag(sign exp(log_diag))),
    initially a random rotation (its LU decomposition); the density direction convolves
    with W^-1 from two triangular solves."""

    def __init__(self, channels):
        super().__init__()
        rotation = torch.linalg.qr(torch.randn(channels, channels, dtype=torch.float64))[0]
        permutation, lower, upper = torch.linalg.lu(rotation)
        dtype = torch.get_default_dtype()
        self.register_buffer("permutation", permutation.to(dtype))
        self.register_buffer("sign", upper.diagonal().sign().to(dtype))
        self.lower = nn.Parameter(lower.tril(-1).to(dtype))
        self.upper = nn.Parameter(upper.triu(1).to(dtype))
        self.log_diag = nn.Parameter(upper.diagonal().abs().log().to(dtype))
        self.bias = nn.Parameter(torch.zeros(channels))

    def _factors(self):
        eye = torch.eye(len(self.sign), dtype=self.sign.dtype)
        diagonal = torch.diag(self.sign * torch.exp(self.log_diag))
        return self.lower.tril(-1) + eye, self.upper.triu(1) + diagonal

    def forward(self, x):
        lower, upper = self._factors()
        weight = self.permutation @ lower @ upper
        return F.conv2d(x, weight[:, :, None, None], self.bias), image_logdet(self.log_diag, x)

    def inverse(self, y):
        lower, upper = self._factors()
        inverse_lower = torch.linalg.solve_triangular(lower, self.permutation.t(), upper=False,
                                                      unitriangular=True)
        weight = torch.linalg.solve_triangular(upper, inverse_lower, upper=True)
        x = F.conv2d(y - self.bias[:, None, None], weight[:, :, None, None])
        return x, image_logdet(-self.log_diag, y)


def conv_net(in_channels, out_channels, hidden):
    """Glow's conditioner: conv 3x3, ReLU, conv 1x1, ReLU, conv 3x3 (zeroed: identity at init)."""
    net = nn.Sequential(
        nn.Conv2d(in_channels, hidden, 3, padding=1), nn.ReLU(),
        nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
        nn.Conv2d(hidden, out_channels, 3, padding=1))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


def affine_channels(x, net_output, inverse):
    """The soft-clamped affine map of every value of x [B, n, H, W] with the shift and
    log-scale of channel c at channels 2c and 2c + 1 of net_output; the log-det per image."""
    b, n, h, w = x.shape
    params = net_output.reshape(b, n, 2, h, w).movedim(2, -1)
    out, logdet = AffineCoupling.transform(x, params, inverse)
    return out, logdet.sum((1, 2, 3))


class ConvCoupling(nn.Module):
    """Affine coupling over channels: the first C/2 condition the rest."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.split = channels // 2
        self.net = conv_net(self.split, 2 * (channels - self.split), hidden)

    def _couple(self, x, inverse):
        x_a, x_b = x[:, :self.split], x[:, self.split:]
        y_b, logdet = affine_channels(x_b, self.net(x_a), inverse)
        return torch.cat([x_a, y_b], 1), logdet

    def forward(self, x):
        return self._couple(x, inverse=False)

    def inverse(self, y):
        return self._couple(y, inverse=True)


class FactorOut(nn.Module):
    """Glow's split: the first C/2 channels go on to `inner` (the next scale); the rest get
    the learned prior, an affine map conditioned on the data-side first half."""

    def __init__(self, channels, inner, hidden):
        super().__init__()
        self.split = channels // 2
        self.inner = inner
        self.net = conv_net(self.split, 2 * (channels - self.split), hidden)

    def forward(self, z):
        y1, logdet = self.inner(z[:, :self.split])
        y2, prior_logdet = affine_channels(z[:, self.split:], self.net(y1), inverse=False)
        return torch.cat([y1, y2], 1), logdet + prior_logdet

    def inverse(self, y):
        y1 = y[:, :self.split]
        z1, logdet = self.inner.inverse(y1)
        z2, prior_logdet = affine_channels(y[:, self.split:], self.net(y1), inverse=True)
        return torch.cat([z1, z2], 1), logdet + prior_logdet


class GlowLevel(nn.Module):
    """One scale on [B, C, H, W]: squeeze to 4C channels, `steps` x (ActNorm, invertible 1x1
    convolution, affine coupling), then, but at the last level, a FactorOut into the next
    level; unsqueeze, so the shape is kept. `layers` lists them in the density direction."""

    def __init__(self, channels, levels, steps, hidden):
        super().__init__()
        c = 4 * channels
        layers = []
        for _ in range(steps):
            layers += [ActNorm2d(c), InvertibleConv1x1(c), ConvCoupling(c, hidden)]
        if levels > 1:
            layers.append(FactorOut(c, GlowLevel(c // 2, levels - 1, steps, hidden), hidden))
        self.layers = nn.ModuleList(layers)

    def forward(self, z):
        x, logdet = squeeze(z), 0
        for layer in reversed(self.layers):
            x, layer_logdet = layer(x)
            logdet = logdet + layer_logdet
        return unsqueeze(x), logdet

    def inverse(self, y):
        x, logdet = squeeze(y), 0
        for layer in self.layers:
            x, layer_logdet = layer.inverse(x)
            logdet = logdet + layer_logdet
        return unsqueeze(x), logdet


class Flattened(nn.Module):
    """A layer on [B, C, H, W] images as a layer on flat [B, C * H * W] rows."""

    def __init__(self, layer, shape):
        super().__init__()
        self.layer, self.shape = layer, tuple(shape)

    def forward(self, z):
        x, logdet = self.layer(z.reshape(-1, *self.shape))
        return x.flatten(1), logdet

    def inverse(self, y):
        x, logdet = self.layer.inverse(y.reshape(-1, *self.shape))
        return x.flatten(1), logdet


class ImageMAF(Flow):
    """MAF on images: `layers` MADE affine layers of one hidden layer of `hidden` units,
    degrees reversed in every other layer."""

    def __init__(self, shape=(1, 28, 28), layers=5, hidden=1024):
        dim = math.prod(shape)
        made_layers = [flows.MaskedAffineAutoregressive(dim, [hidden], reverse_order=i % 2 == 1)
                       for i in range(layers)]
        super().__init__(dim, made_layers + [Logit()])


class ImageNSF(Flow):
    """NSF on images: the pixels read in checkerboard order, then `layers` spline couplings
    (MLP conditioners of two hidden layers of `hidden`), Reverse between them."""

    def __init__(self, shape=(1, 28, 28), layers=8, hidden=256):
        dim = math.prod(shape)
        couplings = [ImageSplineCoupling(dim, hidden) for _ in range(layers)]
        super().__init__(dim, with_reverses(couplings) + [Checkerboard(shape), Logit()])


def default_levels(height, width):
    """How many times H and W both halve, at most MAX_LEVELS."""
    levels = 0
    while levels < MAX_LEVELS and height % 2 == 0 and width % 2 == 0:
        height, width, levels = height // 2, width // 2, levels + 1
    return levels


class Glow(Flow):
    """Multi-scale Glow (Kingma & Dhariwal 2018): as many levels as H and W halve to (at
    most 3), `steps` steps per level, conditioners of `hidden` channels."""

    def __init__(self, shape=(1, 28, 28), steps=8, hidden=64):
        top = GlowLevel(shape[0], default_levels(*shape[1:]), steps, hidden)
        super().__init__(math.prod(shape), [Flattened(top, shape), Logit()])


IMAGE_MODELS = {"maf": ImageMAF, "nsf": ImageNSF, "glow": Glow}
LEARNING_RATES = {"maf": 1e-3, "nsf": 5e-4, "glow": 1e-3}  # the CLI's image defaults
