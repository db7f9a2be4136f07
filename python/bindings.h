#pragma once
// The parts of the `diffeo._core` module defined outside module.cpp, each
// called from its PYBIND11_MODULE once the Bijector class is registered.

#include <pybind11/pybind11.h>

namespace diffeo::python {

/// Squeeze, Pixelwise, ActNorm2d, InvertibleConv1x1, ConvCoupling, FactorOut
/// and Reshaped: the pieces of Glow-like image flows (image_bindings.cpp).
void bind_image_bijectors(pybind11::module_& m);

/// Householder, HierarchicalCoupling, HINT (the bijector) and the
/// ConditionalHINT model (hint_bindings.cpp).
void bind_hint(pybind11::module_& m);

}  // namespace diffeo::python
