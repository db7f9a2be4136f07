#pragma once

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Bernstein flow (Sick, Hothorn & Duerr 2020; the reference project's chain),
/// per coordinate, data -> latent:
///   z = a2 * g(a1 * y + b1) + b2,
/// g an increasing Bernstein polynomial of `order` on [0, 1], continued
/// linearly outside it, a1, a2 > 0 and b1, b2 learned (independent
/// coordinates for dim > 1).  The reference squashes a1 y + b1 into [0, 1]
/// with a sigmoid first; then z only covers a bounded interval and the
/// density misses the base's mass outside it, so here the polynomial's linear
/// continuation takes the squash's place and the map is onto R: the density
/// integrates to 1.  squash = "sigmoid" builds the reference's chain
/// z = a2 g(sigmoid(a1 y + b1)) + b2 instead: its log_prob is exact in y but
/// the model puts no mass where z leaves (a2 g(0) + b2, a2 g(1) + b2), so its
/// total mass is below 1 and draws of such z are invalid.  It starts at the identity on
/// standardised data (a1 = 1/5, b1 = 1/2, g(u) = u, a2 = 5, b2 = -5/2).  The flow's bijector (base
/// -> data) is the inverse of this chain: log_prob evaluates the polynomial, sampling solves for
/// its root.  With context_features > 0 it is a conditional transformation model p(y | x): an MLP
/// (`hidden`, `activation`) of the covariates x gives every parameter of the chain
/// (ConditionalElementwise with BernsteinChainTransform), starting at the
/// identity.
Bijector bernstein_flow_bijector(const FlowOptions& options);
/// The Bernstein flow on a standard normal base.
Flow BernsteinFlow(const FlowOptions& options);

}  // namespace diffeo::flows
