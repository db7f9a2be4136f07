// HINT from Python (Kruse et al. 2021): its bijector's pieces, the bijector
// and the conditional model for posterior sampling.

#include <torch/extension.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "conversions.h"
#include "diffeo/bijectors/hierarchical_coupling.h"
#include "diffeo/bijectors/householder.h"
#include "diffeo/core/global_seed.h"
#include "diffeo/flows/hint.h"

namespace py = pybind11;

namespace diffeo::python {

namespace {

// ConditionalHINT's density `method` of (x, y) in Python: array arguments, run
// without the GIL.
using PairDensity = torch::Tensor (flows::ConditionalHINTImpl::*)(const torch::Tensor&,
                                                                  const torch::Tensor&);
auto of_pair(PairDensity method) {
  return [method](flows::ConditionalHINT& h, const py::object& x, const py::object& y) {
    const auto xs = tensor_argument(x), ys = tensor_argument(y);
    py::gil_scoped_release release;
    return ((*h).*method)(xs, ys);
  };
}

}  // namespace

void bind_hint(py::module_& m) {
  m.def(
      "Householder",
      [](int64_t dim, int64_t reflections, uint64_t seed, bool learnable) {
        return Bijector(Householder(
            HouseholderOptions(dim).reflections(reflections).seed(seed).learnable(learnable)));
      },
      py::arg("dim"), py::arg("reflections") = 0, py::arg("seed") = 0, py::arg("learnable") = true,
      "y = Q x with Q a product of `reflections` (0: dim) learnable Householder reflections "
      "drawn from seed: an orthogonal map, log-det 0 (HINT's mixing between couplings)");
  m.def(
      "HierarchicalCoupling",
      [](int64_t dim, std::vector<int64_t> hidden, int64_t min_hidden, int64_t min_split,
         const std::string& activation, int64_t context_features, double log_scale_bound,
         bool identity_init) {
        return Bijector(HierarchicalCoupling(HierarchicalCouplingOptions(dim)
                                                 .hidden(std::move(hidden))
                                                 .min_hidden(min_hidden)
                                                 .min_split(min_split)
                                                 .activation(activation)
                                                 .context_features(context_features)
                                                 .log_scale_bound(log_scale_bound)
                                                 .identity_init(identity_init)));
      },
      py::arg("dim"), py::arg("hidden") = std::vector<int64_t>{64, 64}, py::arg("min_hidden") = 16,
      py::arg("min_split") = 2, py::arg("activation") = "relu", py::arg("context_features") = 0,
      py::arg("log_scale_bound") = 2.0, py::arg("identity_init") = true,
      "HINT's recursive affine coupling of vectors of size dim: each half split again while "
      "it has >= 2 min_split coordinates (conditioner widths halved per level, down to "
      "min_hidden), the lower half coupled to the upper; a lower-triangular Jacobian. "
      "identity_init: zero last layers, so it starts as the identity. Conditioners draw from "
      "torch's global generator (torch.manual_seed).");
  m.def(
      "HINT",
      [](int64_t dim, int64_t layers, std::vector<int64_t> hidden, const std::string& activation,
         int64_t context_features, double log_scale_bound, uint64_t seed) {
        GlobalSeed seeded(seed);  // as flows.build seeds the "hint" flow: the same weights
        return flows::hint_bijector(flows::FlowOptions(dim)
                                        .layers(layers)
                                        .hidden(std::move(hidden))
                                        .activation(activation)
                                        .context_features(context_features)
                                        .log_scale_bound(log_scale_bound)
                                        .seed(seed));
      },
      py::arg("dim"), py::arg("layers") = 6, py::arg("hidden") = std::vector<int64_t>{64, 64},
      py::arg("activation") = "relu", py::arg("context_features") = 0,
      py::arg("log_scale_bound") = 3.0, py::arg("seed") = 0,
      "HINT's bijector: `layers` blocks of a Householder mixing (seed + block) and a "
      "HierarchicalCoupling; the bijector of flows.build('hint', dim, seed=seed, ...) (the same "
      "initial weights)");

  py::class_<flows::ConditionalHINT> hint(
      m, "ConditionalHINT",
      R"(Conditional HINT: a joint density p(x, y) of unknowns x and observations y.

Two lanes of HINT blocks map (x, y) to a standard normal (z_x, z_y) block
triangularly (z_y depends on y only), so one model gives log p(x, y),
log p(y), log p(x | y) and exact posterior draws from p(x | y). Train it
by minimising -log_prob(x, y).mean() with any torch.optim optimizer, or
with diffeo.fit(model, x, context=y).)");
  hint.def(py::init([](int64_t x_dim, int64_t y_dim, int64_t layers, std::vector<int64_t> hidden,
                       const std::string& activation, int64_t min_split, double log_scale_bound,
                       uint64_t seed) {
             return flows::ConditionalHINT(flows::ConditionalHINTOptions(x_dim, y_dim)
                                               .layers(layers)
                                               .hidden(std::move(hidden))
                                               .activation(activation)
                                               .min_split(min_split)
                                               .log_scale_bound(log_scale_bound)
                                               .seed(seed));
           }),
           py::arg("x_dim"), py::arg("y_dim"), py::arg("layers") = 4,
           py::arg("hidden") = std::vector<int64_t>{64, 64}, py::arg("activation") = "relu",
           py::arg("min_split") = 2, py::arg("log_scale_bound") = 2.0, py::arg("seed") = 0);
  module_methods(hint);
  hint.def("log_prob", of_pair(&flows::ConditionalHINTImpl::log_prob), py::arg("x"), py::arg("y"),
           "log p(x, y) per row: x [n, x_dim], y [n, y_dim] -> [n]")
      .def(
          "log_prob_y",
          [](flows::ConditionalHINT& h, const py::object& y) {
            const auto ys = tensor_argument(y);
            py::gil_scoped_release release;
            return h->log_prob_y(ys);
          },
          py::arg("y"), "log p(y), the y lane's marginal, per row")
      .def("log_prob_x_given_y", of_pair(&flows::ConditionalHINTImpl::log_prob_x_given_y),
           py::arg("x"), py::arg("y"), "log p(x | y) = log p(x, y) - log p(y) per row")
      .def(
          "sample_joint",
          [](flows::ConditionalHINT& h, int64_t n, const py::object& generator) {
            const auto g = generator_argument(generator);
            std::pair<torch::Tensor, torch::Tensor> draws;
            {
              py::gil_scoped_release release;
              draws = h->sample_joint(n, g);
            }
            return py::make_tuple(draws.first, draws.second);
          },
          py::arg("n"), py::arg("generator") = py::none(),
          "n joint draws (x [n, x_dim], y [n, y_dim]); generator: a torch.Generator or an int seed")
      .def(
          "sample_posterior",
          [](flows::ConditionalHINT& h, const py::object& y, int64_t n,
             const py::object& generator) {
            const auto ys = tensor_argument(y);
            const auto g = generator_argument(generator);
            py::gil_scoped_release release;
            return h->sample_posterior(ys, n, g);
          },
          py::arg("y"), py::arg("n"), py::arg("generator") = py::none(),
          "n draws [n, x_dim] from p(x | y) for one observation y ([y_dim] or [1, y_dim])")
      .def(
          "encode",
          [](flows::ConditionalHINT& h, const py::object& x, const py::object& y) {
            const auto latent = h->encode(tensor_argument(x), tensor_argument(y));
            return py::make_tuple(latent.z_x, latent.z_y, latent.log_det_x, latent.log_det_y);
          },
          py::arg("x"), py::arg("y"),
          "The density direction: (z_x, z_y, log_det_x, log_det_y), the lanes' log|det| of "
          "(x, y) -> (z_x, z_y)")
      .def(
          "decode",
          [](flows::ConditionalHINT& h, const py::object& z_x, const py::object& z_y) {
            const auto pair = h->decode(tensor_argument(z_x), tensor_argument(z_y));
            return py::make_tuple(pair.first, pair.second);
          },
          py::arg("z_x"), py::arg("z_y"), "The sampling direction: (z_x, z_y) -> (x, y)")
      .def_property_readonly("x_dim",
                             [](flows::ConditionalHINT& h) { return h->options().x_dim(); })
      .def_property_readonly("y_dim",
                             [](flows::ConditionalHINT& h) { return h->options().y_dim(); })
      .def("__repr__", [](flows::ConditionalHINT& h) {
        const auto& o = h->options();
        return "diffeo.ConditionalHINT(x_dim=" + std::to_string(o.x_dim()) +
               ", y_dim=" + std::to_string(o.y_dim()) + ", layers=" + std::to_string(o.layers()) +
               ")";
      });
}

}  // namespace diffeo::python
