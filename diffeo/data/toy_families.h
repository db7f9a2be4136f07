#pragma once
// The three families that make up the toy registry (toy.cpp).  Each returns
// its densities in registry order with unchecked functions; toy.cpp adds the
// argument checks and the non-finite input handling.

#include <vector>

#include "diffeo/data/toy.h"

namespace diffeo::data {

/// banana, gaussian_blobs, energy1..energy4, half_circle (reference_densities.cpp).
std::vector<ToyDensity> reference_densities();

/// two_moons, circles, 8gaussians, checkerboard, pinwheel, 2spirals, swissroll,
/// rings (benchmark_densities.cpp).
std::vector<ToyDensity> benchmark_densities();

/// u1..u4 (energy_targets.cpp).
std::vector<ToyDensity> energy_targets();

}  // namespace diffeo::data
