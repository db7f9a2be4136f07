// diffeo's Python bindings (the `diffeo._core` extension): flows built by
// name or spec, their densities and samples as ordinary torch tensors whose
// autograd graph reaches diffeo's parameters, the training engine, model
// files and the toy densities.  python/diffeo/__init__.py re-exports them.

#include <torch/extension.h>

#include <string>
#include <vector>

#include "diffeo/bijectors/act_norm.h"
#include "diffeo/bijectors/affine.h"
#include "diffeo/bijectors/autoregressive.h"
#include "diffeo/bijectors/batch_norm.h"
#include "diffeo/bijectors/bernstein.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/inverse.h"
#include "diffeo/bijectors/lu_linear.h"
#include "diffeo/bijectors/permutation.h"
#include "diffeo/bijectors/random_permutation.h"
#include "diffeo/bijectors/rational_quadratic_spline.h"
#include "diffeo/bijectors/rotation.h"
#include "diffeo/bijectors/soft_clip.h"
#include "diffeo/core/error.h"
#include "diffeo/distributions/normal.h"
#include "diffeo/distributions/transformed.h"
#include "diffeo/data/dequantize.h"
#include "diffeo/data/fashion_mnist.h"
#include "diffeo/data/toy.h"
#include "diffeo/flows/flow.h"
#include "diffeo/flows/hint.h"
#include "diffeo/flows/transforms.h"
#include "diffeo/io/save_load.h"
#include "diffeo/train/fit.h"
#include "diffeo/train/flat_adam.h"
#include "diffeo/train/flow_objectives.h"
#include "diffeo/train/image_training.h"
#include "diffeo/train/toy_fit.h"
#include "bindings.h"
#include "conversions.h"

namespace py = pybind11;
namespace df = diffeo;
using namespace diffeo::python;  // conversions.h

namespace {

// Python keyword values -> the JSON that FlowOptions and specs are read from.
df::json to_json(const py::handle& value) {
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) return value.cast<int64_t>();
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    df::json items = df::json::array();
    for (const auto& item : value) items.push_back(to_json(item));
    return items;
  }
  if (py::isinstance<py::dict>(value)) {
    df::json object = df::json::object();
    for (const auto& [key, item] : value.cast<py::dict>()) object[key.cast<std::string>()] = to_json(item);
    return object;
  }
  throw df::Error("diffeo: cannot pass a value of type " +
                  std::string(py::str(value.get_type().attr("__name__"))) +
                  " as an option (numbers, strings, booleans and lists of them)");
}

py::object to_python(const df::json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

// The methods every distribution holder (Distribution, Flow) has in Python.
template <typename Holder>
void distribution_methods(py::class_<Holder>& c) {
  module_methods(c);
  c.def("log_prob",
        [](Holder& d, const py::object& x, const py::object& context) {
          const auto xs = tensor_argument(x), c = tensor_argument(context);
          py::gil_scoped_release release;  // long calls let Python threads run
          return d->log_prob(xs, c);
        },
        py::arg("x"), py::arg("context") = py::none(), "log p(x | context) per row: [n, event...] -> [n]")
      .def("sample",
           [](Holder& d, int64_t n, const py::object& context, const py::object& generator) {
             const auto c = tensor_argument(context);
             const auto g = generator_argument(generator);
             py::gil_scoped_release release;
             return d->sample(n, c, g);
           },
           py::arg("n"), py::arg("context") = py::none(), py::arg("generator") = py::none(),
           "n draws [n, event...]; generator: a torch.Generator or an int seed")
      .def("sample_and_log_prob",
           [](Holder& d, int64_t n, const py::object& context, const py::object& generator) {
             const auto c = tensor_argument(context);
             const auto g = generator_argument(generator);
             df::SampleAndLogProb draws;
             {
               py::gil_scoped_release release;
               draws = d->sample_and_log_prob(n, c, g);
             }
             return py::make_tuple(draws.sample, draws.log_prob);
           },
           py::arg("n"), py::arg("context") = py::none(), py::arg("generator") = py::none(),
           "(samples, their log p) in one pass")
      .def_property_readonly("event_shape", [](Holder& d) { return d->event_shape(); })
      .def_property_readonly("context_features", [](Holder& d) { return d->context_features(); });
}

df::flows::Flow build_flow(const std::string& name, int64_t dim, const py::kwargs& options) {
  df::json object = {{"dim", dim}};
  for (const auto& [key, value] : options) object[key.cast<std::string>()] = to_json(value);
  return df::flows::build(df::json{{"flow", name}, {"options", object}});
}

// Progress lines on Python's sys.stderr (where a notebook shows them), with
// the GIL taken back: the engine runs without it.
void write_to_python_stderr(const std::string& line) {
  py::gil_scoped_acquire gil;
  const auto stream = py::module_::import("sys").attr("stderr");
  if (stream.is_none()) return;  // pythonw: no stderr at all
  stream.attr("write")(line);
  stream.attr("flush")();
}

// The options fit and fit_reverse_kl share.
df::train::FitOptions fit_options(int64_t steps, int64_t batch_size, double lr, uint64_t seed,
                                  double clip_grad_norm, int64_t validate_every, bool progress) {
  auto options = df::train::FitOptions()
                     .steps(steps)
                     .batch_size(batch_size)
                     .learning_rate(lr)
                     .seed(seed)
                     .clip_grad_norm(clip_grad_norm)
                     .validate_every(validate_every)
                     .progress(progress);
  if (progress) options.progress_sink(write_to_python_stderr);
  return options;
}

// Maximum likelihood of ConditionalHINT's joint log p(x, y): x the data, y the context.
df::train::FitReport fit_hint(df::flows::ConditionalHINT hint, const py::object& data,
                              const py::object& context, const py::object& validation,
                              const py::object& validation_context,
                              const df::train::FitOptions& options) {
  if (py::isinstance<py::str>(data))
    throw df::Error("diffeo.fit: a ConditionalHINT trains on pairs (x, y): data x [n, x_dim] and "
                    "context y [n, y_dim], not on a toy density");
  const auto x = tensor_argument(data), y = tensor_argument(context);
  const auto vx = tensor_argument(validation), vy = tensor_argument(validation_context);
  if (!y.defined())
    throw df::Error("diffeo.fit: a ConditionalHINT needs argument 'context': its observations y "
                    "[n, y_dim], one row per row of data");
  if (vx.defined() != vy.defined())
    throw df::Error("diffeo.fit: a ConditionalHINT validates on pairs: give both 'validation' (x) "
                    "and 'validation_context' (y), or neither");
  df::train::MaximumLikelihood objective(
      hint.ptr(), [hint](const torch::Tensor& xs, const torch::Tensor& ys) mutable {
        return hint->log_prob(xs, ys);
      });
  if (vx.defined()) objective.validate_on(vx, vy);
  df::train::TensorDataSet pairs({{"x", x}, {"y", y}});
  py::gil_scoped_release release;
  return df::train::fit(objective, pairs, options);
}

// fit's model: a Flow fitted to a toy density by name gets the standardisation
// `diffeo train --density` gives its flow (train::toy_standardization), unless
// its spec has one (or a logit) already: the Python object then holds the
// standardised flow, whose parameters are the same tensors.
df::Distribution fit_model(const py::object& model, const py::object& data, uint64_t seed,
                           bool standardize) {
  if (!py::isinstance<df::flows::Flow>(model) && !py::isinstance<df::Distribution>(model))
    throw df::Error("diffeo.fit: argument 'flow' must be a Flow, a Distribution or a "
                    "ConditionalHINT, got a " +
                    std::string(py::str(model.get_type().attr("__name__"))));
  if (standardize && py::isinstance<py::str>(data) && py::isinstance<df::flows::Flow>(model)) {
    auto& flow = model.cast<df::flows::Flow&>();
    if (!flow->spec().contains("standardize") && !flow->spec().contains("logit")) {
      const auto s = df::train::toy_standardization(df::data::toy(data.cast<std::string>()), seed);
      flow = df::flows::standardized(flow, s.mean, s.scale);
    }
  }
  return model.cast<df::Distribution>();
}

// lr=None: the flow's default learning rate (flows::default_learning_rate).
double learning_rate_for(const py::object& model, const py::object& lr) {
  if (!lr.is_none()) return lr.cast<double>();
  if (py::isinstance<df::flows::Flow>(model)) {
    const auto spec = model.cast<df::flows::Flow>()->spec();
    if (spec.is_object() && spec.contains("flow"))
      return df::flows::default_learning_rate(spec["flow"].get<std::string>());
  }
  return df::flows::kDefaultLearningRate;
}

py::dict fit(const py::object& model, const py::object& data, const py::object& context,
             const py::object& validation, int64_t steps, int64_t batch_size, const py::object& lr,
             uint64_t seed, const std::string& schedule, double clip_grad_norm,
             int64_t validate_every, bool progress, const py::object& labels, int64_t classes,
             double time_limit, const std::string& checkpoint, int64_t checkpoint_every,
             int64_t stop_after, bool resume, const py::object& validation_context,
             bool standardize) {
  const auto options =
      fit_options(steps, batch_size, learning_rate_for(model, lr), seed, clip_grad_norm,
                  validate_every, progress)
          .schedule(schedule)
          .time_limit(time_limit)
          .checkpoint(checkpoint)
          .checkpoint_every(checkpoint_every)
          .stop_after(stop_after)
          .resume(resume);
  df::train::FitReport report;
  if (py::isinstance<df::flows::ConditionalHINT>(model)) {
    report = fit_hint(model.cast<df::flows::ConditionalHINT>(), data, context, validation,
                      validation_context, options);
    return to_python(report.to_json()).cast<py::dict>();
  }
  auto flow = fit_model(model, data, seed, standardize);
  if (py::isinstance<py::str>(data)) {  // a toy density's fresh batches
    const auto& density = df::data::toy(data.cast<std::string>());
    if (!density.sample)
      throw df::Error("diffeo.fit: the density '" + density.name + "' has no sampler; use fit_reverse_kl");
    py::gil_scoped_release release;
    const auto dtype = flow->options();
    report = df::train::fit(flow, [&](int64_t n, at::Generator& g) {
      return std::make_pair(density.sample(n, g).to(dtype), torch::Tensor());
    }, options);
  } else if (const auto x = tensor_argument(data); x.dim() == 4 && !x.is_floating_point()) {
    // 8-bit images [N, C, H, W]: dequantised afresh each batch, labels as one-hot context.
    const auto y = tensor_argument(labels), v = tensor_argument(validation);
    const auto v_labels = tensor_argument(validation_context);
    df::train::ImageBatches batches(x, y, classes);
    torch::Tensor held_out, held_out_context;
    if (v.defined()) {
      auto noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
      held_out = df::data::dequantize(v, noise).flatten(1);
      if (v_labels.defined()) held_out_context = df::train::one_hot(v_labels, classes);
    }
    py::gil_scoped_release release;
    report = df::train::fit(flow, batches, options, held_out, held_out_context);
  } else {
    const auto c = tensor_argument(context), v = tensor_argument(validation);
    const auto vc = tensor_argument(validation_context);
    py::gil_scoped_release release;
    report = df::train::fit(flow, x, options, c, v, vc);
  }
  return to_python(report.to_json()).cast<py::dict>();
}

py::dict fit_reverse_kl(df::Distribution model, const py::object& target, int64_t steps,
                        int64_t batch_size, double lr, uint64_t seed, double clip_grad_norm,
                        int64_t validate_every, bool progress) {
  if (!PyCallable_Check(target.ptr()) && !py::isinstance<df::data::ToyDensity>(target))
    throw df::Error("diffeo.fit_reverse_kl: argument 'target' must be a callable x -> log p~(x) "
                    "or a toy density");
  std::function<torch::Tensor(const torch::Tensor&)> log_target;
  if (py::isinstance<df::data::ToyDensity>(target)) {
    log_target = target.cast<const df::data::ToyDensity&>().unnormalized_log_prob;
  } else {
    log_target = [target](const torch::Tensor& x) {
      py::gil_scoped_acquire gil;  // the engine runs without the GIL
      return target(x).cast<torch::Tensor>();
    };
  }
  const auto options = fit_options(steps, batch_size, lr, seed, clip_grad_norm, validate_every, progress);
  df::train::FitReport report;
  {
    py::gil_scoped_release release;
    report = df::train::fit_reverse_kl(model, log_target, options);
  }
  return to_python(report.to_json()).cast<py::dict>();
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "diffeo: normalizing flows in C++ on LibTorch (the compiled core)";
  py::register_exception<df::Error>(m, "Error", PyExc_ValueError);

  py::class_<df::Distribution> distribution(m, "Distribution", R"(A distribution: log_prob and sample.

diffeo.Normal, diffeo.StandardNormal and diffeo.Transformed(base, bijector)
build them; flows are distributions too.)");
  distribution_methods(distribution);

  py::class_<df::flows::Flow> flow(m, "Flow", R"(A normalizing flow: a base distribution pushed through a bijector.

Build one with diffeo.flows.build(name, dim, **options) or diffeo.load(path).
log_prob and sample return torch tensors; log_prob's graph reaches the
flow's parameters, so .backward() trains it with any torch.optim optimizer.)");
  distribution_methods(flow);
  flow.def_property_readonly("dim", [](df::flows::Flow& f) { return f->event_shape().at(0); })
      .def_property_readonly("spec", [](df::flows::Flow& f) { return to_python(f->spec()); },
                             "The JSON spec the flow was built from (as a dict)")
      .def("__repr__", [](df::flows::Flow& f) {
        return "diffeo.Flow(" + f->spec().dump() + ")";
      });

  // A Flow is a Distribution in C++ (another holder type): let Python pass
  // one wherever a Distribution is expected.
  distribution.def(py::init([](const df::flows::Flow& f) { return df::Distribution(f); }), py::arg("flow"));
  py::implicitly_convertible<df::flows::Flow, df::Distribution>();

  py::class_<df::Bijector> bijector(m, "Bijector", R"(An invertible map: forward = base -> data (sampling),
inverse = data -> base (density), each with its log|det J|.)");
  module_methods(bijector);
  bijector
      .def("forward",
           [](df::Bijector& b, const py::object& x, const py::object& c) {
             return b->forward(tensor_argument(x), tensor_argument(c));
           },
           py::arg("x"), py::arg("context") = py::none())
      .def("inverse",
           [](df::Bijector& b, const py::object& y, const py::object& c) {
             return b->inverse(tensor_argument(y), tensor_argument(c));
           },
           py::arg("y"), py::arg("context") = py::none())
      .def("forward_and_log_det",
           [](df::Bijector& b, const py::object& x, const py::object& c) {
             auto r = b->forward_and_log_det(tensor_argument(x), tensor_argument(c));
             return py::make_tuple(r.output, r.log_det);
           },
           py::arg("x"), py::arg("context") = py::none(), "(y, log|det dy/dx|)")
      .def("inverse_and_log_det",
           [](df::Bijector& b, const py::object& y, const py::object& c) {
             auto r = b->inverse_and_log_det(tensor_argument(y), tensor_argument(c));
             return py::make_tuple(r.output, r.log_det);
           },
           py::arg("y"), py::arg("context") = py::none(), "(x, log|det dx/dy|)");
  // Numbers or tensors, as the C++ constructors take them.
  m.def("Shift", [](const py::object& loc, bool learnable) {
          return df::Bijector(py::isinstance<py::float_>(loc) || py::isinstance<py::int_>(loc)
                                  ? df::Shift(loc.cast<double>(), learnable)
                                  : df::Shift(tensor_argument(loc), learnable));
        }, py::arg("loc"), py::arg("learnable") = true, "y = x + loc");
  m.def("Scale", [](const py::object& scale, bool learnable) {
          return df::Bijector(py::isinstance<py::float_>(scale) || py::isinstance<py::int_>(scale)
                                  ? df::Scale(scale.cast<double>(), learnable)
                                  : df::Scale(tensor_argument(scale), learnable));
        }, py::arg("scale"), py::arg("learnable") = true, "y = scale * x");
  m.def("Rotation2D", [](double theta, bool learnable) { return df::Bijector(df::Rotation2D(theta, learnable)); },
        py::arg("theta"), py::arg("learnable") = true, "y = R(theta) x in the plane");
  m.def("Chain", [](const std::vector<df::Bijector>& parts) { return df::Bijector(df::Chain(parts)); },
        py::arg("bijectors"), "Chain([f, g, h]) is f(g(h(x))), as in distrax");
  m.def("Inverse", [](const df::Bijector& b) { return df::Bijector(df::Inverse(b)); }, py::arg("bijector"));
  m.def("Block", [](const df::Bijector& b, int64_t dims) { return df::Bijector(df::Block(b, dims)); },
        py::arg("bijector"), py::arg("extra_event_dims"),
        "Treats `extra_event_dims` more trailing dimensions as the event (log-dets summed)");
  m.def("RationalQuadraticSpline",
        [](int64_t bins, std::vector<int64_t> shape, double bound, bool learnable) {
          df::spline::SplineOptions options;
          options.bound = bound;
          return df::Bijector(df::RationalQuadraticSpline(bins, std::move(shape), options, learnable));
        },
        py::arg("bins"), py::arg("shape") = std::vector<int64_t>{}, py::arg("bound") = 3.0,
        py::arg("learnable") = true,
        "An elementwise monotonic rational-quadratic spline on [-bound, bound] (identity outside), "
        "parameters of shape shape + [3 bins - 1] starting at the identity; event rank 0 (lift "
        "with Block)");
  m.def("BernsteinPolynomial",
        [](int64_t order, std::vector<int64_t> shape, double bound, bool learnable) {
          df::bernstein::BernsteinOptions options;
          options.bound = bound;
          return df::Bijector(df::BernsteinPolynomial(order, std::move(shape), options, learnable));
        },
        py::arg("order"), py::arg("shape") = std::vector<int64_t>{}, py::arg("bound") = 0.0,
        py::arg("learnable") = true,
        "An elementwise increasing Bernstein polynomial of the given order (inverse by root "
        "finding), starting at the identity; event rank 0 (lift with Block)");
  m.def("ActNorm", [](int64_t dim, double eps) { return df::Bijector(df::ActNorm(dim, eps)); },
        py::arg("dim"), py::arg("eps") = 1e-6,
        "Glow's activation normalisation: a per-feature scale and shift, set from the first "
        "training batch (data-dependent initialisation)");
  m.def("BatchNorm",
        [](int64_t dim, double momentum, double eps) {
          return df::Bijector(df::BatchNorm(df::BatchNormOptions(dim).momentum(momentum).eps(eps)));
        },
        py::arg("dim"), py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        "Batch normalisation as a bijector (batch statistics in training mode, running ones in eval)");
  m.def("LULinear",
        [](int64_t dim, bool identity_init, uint64_t seed) {
          return df::Bijector(df::LULinear(df::LULinearOptions(dim).identity_init(identity_init).seed(seed)));
        },
        py::arg("dim"), py::arg("identity_init") = false, py::arg("seed") = 0,
        "y = W x with W = P L U learnable (Glow's invertible 1x1 convolution on vectors)");
  m.def("Permute", [](std::vector<int64_t> order) { return df::Bijector(df::Permute(std::move(order))); },
        py::arg("permutation"), "y[i] = x[permutation[i]]");
  m.def("RandomPermutation",
        [](int64_t dim, uint64_t seed) { return df::Bijector(df::RandomPermutation(dim, seed)); },
        py::arg("dim"), py::arg("seed") = 0, "A fixed permutation drawn from `seed`");
  m.def("SoftClip",
        [](double low, double high, double softness, bool learnable) {
          return df::Bijector(df::SoftClip(low, high, softness, learnable));
        },
        py::arg("low"), py::arg("high"), py::arg("hinge_softness") = 1.0, py::arg("learnable") = false,
        "A smooth bijection of the real line onto (low, high), elementwise");
  // Layers as the flow builders make them, from FlowOptions' fields.
  auto layer_options = [](int64_t dim, std::vector<int64_t> hidden, const std::string& transform,
                          int64_t bins, int64_t order, double bound, int64_t context_features,
                          const std::string& activation) {
    return df::flows::FlowOptions(dim)
        .hidden(std::move(hidden))
        .transform(transform)
        .bins(bins)
        .order(order)
        .bound(bound)
        .context_features(context_features)
        .activation(activation);
  };
  m.def("MaskedAutoregressive",
        [layer_options](int64_t dim, std::vector<int64_t> hidden, const std::string& transform, int64_t bins,
                        int64_t order, double bound, int64_t context_features, bool reverse_order,
                        const std::string& activation) {
          const auto options = layer_options(dim, std::move(hidden), transform, bins, order, bound,
                                             context_features, activation);
          const auto t = df::flows::make_transform(options);
          df::nn::MADE made(df::nn::MADEOptions(dim)
                                .hidden(options.hidden())
                                .outputs_per_feature(t->parameters_per_feature())
                                .context_features(context_features)
                                .reverse_order(reverse_order)
                                .activation(activation));
          return df::Bijector(df::MaskedAutoregressive(made, t));
        },
        py::arg("dim"), py::arg("hidden") = std::vector<int64_t>{64, 64}, py::arg("transform") = "affine",
        py::arg("bins") = 8, py::arg("order") = 8, py::arg("bound") = 6.0, py::arg("context_features") = 0,
        py::arg("reverse_order") = false, py::arg("activation") = "relu",
        "One MAF layer: a MADE conditioner and an elementwise transform (affine, spline or "
        "bernstein; splines and Bernstein are the identity outside [-bound, bound]); the density "
        "direction is one pass, sampling dim passes. Starts at the identity.");
  m.def("Coupling",
        [layer_options](int64_t dim, std::vector<int64_t> hidden, const std::string& transform, int64_t bins,
                        int64_t order, double bound, int64_t context_features, const std::string& activation) {
          const auto options = layer_options(dim, std::move(hidden), transform, bins, order, bound,
                                             context_features, activation);
          return df::flows::split_coupling(options, df::flows::make_transform(options));
        },
        py::arg("dim"), py::arg("hidden") = std::vector<int64_t>{64, 64}, py::arg("transform") = "affine",
        py::arg("bins") = 8, py::arg("order") = 8, py::arg("bound") = 6.0, py::arg("context_features") = 0,
        py::arg("activation") = "relu",
        "A Real NVP / NSF coupling layer: the last dim - dim/2 features transformed elementwise "
        "given the first dim/2 (and the context) through an MLP; alternate with Permute. Starts at "
        "the identity.");
  m.def("Normal", [](const py::object& loc, const py::object& scale, bool learnable) {
          return df::Distribution(df::Normal(tensor_argument(loc), tensor_argument(scale), learnable));
        }, py::arg("loc"), py::arg("scale"), py::arg("learnable") = true, "A diagonal Gaussian");
  m.def("StandardNormal", [](int64_t dim) { return df::Distribution(df::StandardNormal(dim)); },
        py::arg("dim"));
  m.def("Transformed", [](const df::Distribution& base, const df::Bijector& bijector) {
          return df::Distribution(df::Transformed(base, bijector));
        }, py::arg("base"), py::arg("bijector"), "The distribution of bijector.forward(z), z ~ base");

  bind_image_bijectors(m);
  bind_hint(m);

  m.def("build_flow", &build_flow, py::arg("name"), py::arg("dim"),
        "Builds flow `name` (see flow_names()) over vectors of size dim; keyword "
        "options as FlowOptions and the CLI name them (layers, hidden, bins, transform, "
        "context_features, seed, ...)");
  m.def("build_flow_from_spec",
        [](const py::dict& spec) { return df::flows::build(to_json(spec)); }, py::arg("spec"),
        "Builds the flow a JSON spec (a dict, as Flow.spec returns) describes");
  m.def("flow_names", &df::flows::flow_names, "The registered flow names");
  m.def("save", &df::io::save, py::arg("flow"), py::arg("path"),
        "Writes the flow to a model file the CLI reads (atomically)");
  m.def("load", &df::io::load, py::arg("path"), "Reads a model file written by save or the CLI");
  m.def("fit", &fit, py::arg("flow"), py::arg("data"), py::arg("context") = py::none(),
        py::arg("validation") = py::none(), py::arg("steps") = 5000, py::arg("batch_size") = 256,
        py::arg("lr") = py::none(), py::arg("seed") = 0, py::arg("schedule") = "cosine",
        py::arg("clip_grad_norm") = 5.0, py::arg("validate_every") = 250, py::arg("progress") = false,
        py::arg("labels") = py::none(), py::arg("classes") = 10, py::arg("time_limit") = 0.0,
        py::arg("checkpoint") = "", py::arg("checkpoint_every") = 0, py::arg("stop_after") = 0,
        py::arg("resume") = false, py::arg("validation_context") = py::none(),
        py::arg("standardize") = true,
        "Maximum likelihood with the C++ training engine on a data tensor [n, dim] (context: its "
        "rows' context), the name of a toy density (fresh batches), or 8-bit images [N, C, H, W] "
        "(uint8: dequantised afresh each batch; labels [N] give a conditional flow one-hot "
        "context; validation: held-out 8-bit images, validation_context their labels). On a toy "
        "density a Flow built without standardisation is first standardised by a pilot sample "
        "(10000 draws seeded seed + 2) as `diffeo train --density` does (the flow's spec then "
        "has 'standardize'; standardize=False leaves it as built). A ConditionalHINT trains on "
        "its joint log p(x, y): data x, context y (validation and validation_context: held-out "
        "pairs). time_limit in seconds (0: none); checkpoint: a file written every "
        "checkpoint_every steps and at stop_after, from which resume=True continues the run "
        "bit-identically (train/checkpoint.h); progress=True writes a log line every 250 steps "
        "to sys.stderr. Returns the history as a dict. The GIL is released while it runs.");
  m.def("fashion_mnist",
        [](const std::string& split, int64_t downsample) {
          auto set = df::data::fashion_mnist(split);
          if (downsample > 1) set.images = df::data::downsample_images(set.images, downsample);
          return py::make_tuple(set.images, set.labels);
        },
        py::arg("split") = "train", py::arg("downsample") = 1,
        "(images uint8 [N, 1, 28 / d, 28 / d], labels int64 [N]) of Fashion-MNIST (Debian's "
        "dataset-fashion-mnist), average-pooled by `downsample`");
  m.def("bits_per_dim",
        [](df::Distribution model, const py::object& images, const py::object& context, uint64_t seed) {
          const auto x = tensor_argument(images), c = tensor_argument(context);
          df::train::Estimate e{};
          {
            py::gil_scoped_release release;
            e = df::train::bits_per_dim(model, x, c, seed);
          }
          return py::make_tuple(e.mean, e.standard_error);
        },
        py::arg("model"), py::arg("images"), py::arg("context") = py::none(), py::arg("seed") = 0,
        "(mean, standard error) of the test bits per dimension of 8-bit images under a model of "
        "unit-cube data (an image flow built with logit=...)");
  m.def("sample_images",
        [](df::flows::Flow flow, int64_t n, uint64_t seed, double temperature, const py::object& context) {
          const auto c = tensor_argument(context);
          py::gil_scoped_release release;
          return df::train::sample_images(flow, n, at::make_generator<at::CPUGeneratorImpl>(seed),
                                          temperature, c);
        },
        py::arg("flow"), py::arg("n"), py::arg("seed") = 0, py::arg("temperature") = 1.0,
        py::arg("context") = py::none(), "n pictures [n, C, H, W] in [0, 1] from an image flow");

  py::class_<df::train::FlatAdam>(m, "FlatAdam", R"(Adam on one flat buffer (train::FlatAdam): the optimizer of diffeo.fit.

Moves the parameters into one contiguous buffer per dtype (each becomes a view
of it, and so does its gradient), so a step is one loop over the buffers however
many tensors the model has: in a Python loop it replaces torch.optim.Adam with
the same update (equal to float rounding on the same gradients; moments below
~1e-38 count as zero). zero_grad() zeroes the gradients in the buffer, or, for
a model of 2^20 parameters or more, sets them to None so that autograd hands its
gradient tensors over instead of adding them into the buffer; step() reads them
wherever they are.)")
      .def(py::init([](const std::vector<torch::Tensor>& parameters, double lr, std::pair<double, double> betas,
                       double eps) {
             return std::make_unique<df::train::FlatAdam>(
                 parameters,
                 df::train::FlatAdamOptions().learning_rate(lr).beta1(betas.first).beta2(betas.second).eps(eps));
           }),
           py::arg("parameters"), py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999),
           py::arg("eps") = 1e-8)
      .def("zero_grad", &df::train::FlatAdam::zero_grad,
           "Zeroes the gradients in the buffer (sets them to None from 2^20 parameters on)")
      .def("step", &df::train::FlatAdam::step, py::call_guard<py::gil_scoped_release>(),
           "One Adam update with the current gradients")
      .def("clip_grad_norm", &df::train::FlatAdam::clip_grad_norm, py::arg("max_norm"),
           "The gradients' global L2 norm; scales them to max_norm when above it (0: only measure)")
      .def_property("lr", &df::train::FlatAdam::learning_rate, &df::train::FlatAdam::set_learning_rate);

  m.def("fit_reverse_kl", &fit_reverse_kl, py::arg("model"), py::arg("target"),
        py::arg("steps") = 5000, py::arg("batch_size") = 256, py::arg("lr") = 1e-3, py::arg("seed") = 0,
        py::arg("clip_grad_norm") = 5.0, py::arg("validate_every") = 250, py::arg("progress") = false,
        "Fits the model to an unnormalised target (a callable x -> log p~(x), or a toy density) "
        "by minimising the reverse KL with the C++ engine (progress=True: log lines on "
        "sys.stderr); returns the history");

  py::class_<df::data::ToyDensity>(m, "ToyDensity", "A toy density of the reference project")
      .def_readonly("name", &df::data::ToyDensity::name)
      .def_readonly("description", &df::data::ToyDensity::description)
      .def_property_readonly("range",
                             [](const df::data::ToyDensity& d) {
                               return py::make_tuple(d.range.x_min, d.range.x_max, d.range.y_min, d.range.y_max);
                             },
                             "(x_min, x_max, y_min, y_max): where to plot it")
      .def("sample",
           [](const df::data::ToyDensity& d, int64_t n, uint64_t seed) {
             if (!d.sample) throw df::Error("diffeo: '" + d.name + "' has no sampler (an energy target)");
             return d.sample(n, at::make_generator<at::CPUGeneratorImpl>(seed));
           },
           py::arg("n"), py::arg("seed") = 0, "n draws [n, 2] from a generator seeded `seed`")
      .def("log_prob",
           [](const df::data::ToyDensity& d, const py::object& x) {
             if (!d.log_prob) throw df::Error("diffeo: '" + d.name + "' has no normalised log density");
             return d.log_prob(tensor_argument(x));
           },
           py::arg("x"), "log p(x) per row")
      .def("unnormalized_log_prob",
           [](const df::data::ToyDensity& d, const py::object& x) {
             return d.unnormalized_log_prob(tensor_argument(x));
           },
           py::arg("x"), "log p(x) up to a constant (energy targets: -U(x))");
  m.def("density", &df::data::toy, py::arg("name"), py::return_value_policy::reference,
        "The toy density `name` (see density_names())");
  m.def("density_names", &df::data::toy_names);
}
