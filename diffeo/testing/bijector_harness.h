#pragma once
// The generic property harness every bijector must pass (DESIGN.md): round
// trips, log-det against the autograd Jacobian in float64, forward/inverse
// log-det symmetry, batch shapes, context handling and finite gradients.
// Tests describe a bijector with a BijectorCase and call the check_* functions
// (or check_all); failures are reported through GoogleTest's EXPECT macros.

#include <diffeo/bijectors/bijector.h>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace diffeo::testing {

/// One bijector under test.  The harness converts it to float64.
struct BijectorCase {
  std::string name;
  std::function<Bijector()> make;
  /// The event shape the bijector acts on; its length must equal the
  /// bijector's event rank ({} for elementwise, {d} for vectors).
  std::vector<int64_t> event_shape;
  /// Draws base-space inputs of the given full shape (float64).  Default:
  /// standard normal; bijectors defined on part of the space (an Inverse of a
  /// squashing map) supply their own.
  std::function<torch::Tensor(const std::vector<int64_t>&)> sample_x = {};
  /// Extreme base-space inputs, [n, event...]: huge magnitudes, spline tails,
  /// bin edges.  Checked for round trip, symmetry and finiteness.
  std::vector<torch::Tensor> adversarial_x = {};
  /// > 0 for conditional bijectors: the width of the context they take.
  /// For 0, the harness checks that a passed context changes nothing.
  int64_t context_dim = 0;
  /// Base-space inputs [n, event...] exactly on a bound where the map
  /// changes branch (a spline's or Bernstein polynomial's interval ends,
  /// where the identity tails begin).  There the derivatives must be those of
  /// the side the value is computed on: checked against the log-dets and
  /// against finite differences in the parameters.
  std::vector<torch::Tensor> boundary_x = {};
};

/// gtest prints parameters by name.
void PrintTo(const BijectorCase& c, std::ostream* os);

/// Builds the bijector in float64.
Bijector make_float64(const BijectorCase& c);
/// Inputs of shape batch + event_shape, float64.
torch::Tensor sample_inputs(const BijectorCase& c, const std::vector<int64_t>& batch);
/// A context for the case (undefined when context_dim == 0).
torch::Tensor sample_context(const BijectorCase& c, const std::vector<int64_t>& batch);

/// inverse(forward(x)) == x and forward(inverse(y)) == y to `tolerance`.
void check_round_trip(const BijectorCase& c, double tolerance = 1e-9);
/// Both log-dets equal log|det J| of the autograd Jacobian (float64).
void check_log_det_against_jacobian(const BijectorCase& c, double tolerance = 1e-9);
/// forward log-det at x == -(inverse log-det at forward(x)).
void check_log_det_symmetry(const BijectorCase& c, double tolerance = 1e-9);
/// Output keeps the input's shape and log_det has the batch shape, for batch
/// shapes [], [1], [B] and [B1, B2].
void check_batch_shapes(const BijectorCase& c);
/// Context: ignored by unconditional bijectors; used, and still invertible,
/// by conditional ones.
void check_context(const BijectorCase& c);
/// Gradients of outputs and log-dets w.r.t. inputs and parameters are finite.
void check_finite_gradients(const BijectorCase& c);
/// Round trip (loose tolerance), symmetry and finiteness at adversarial_x.
void check_adversarial(const BijectorCase& c, double tolerance = 1e-6);

/// At boundary_x and its image: both log-dets equal the autograd Jacobian's,
/// and the parameters' gradients of outputs and log-dets equal central finite
/// differences, for forward(x) and for inverse(forward(x)) (so the point stays
/// exactly on its bound while the parameters move).
void check_boundary(const BijectorCase& c, double tolerance = 1e-6);

/// Every check above.
void check_all(const BijectorCase& c);

}  // namespace diffeo::testing
