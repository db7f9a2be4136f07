#include "conversions.h"

#include "diffeo/core/error.h"

namespace py = pybind11;

namespace diffeo::python {

torch::Tensor tensor_argument(const py::object& value) {
  if (value.is_none()) return {};
  try {
    return py::module_::import("torch").attr("as_tensor")(value).cast<torch::Tensor>();
  } catch (const py::error_already_set&) {
    throw Error("diffeo: expected a tensor or an array of numbers, got a " +
                std::string(py::str(value.get_type().attr("__name__"))));
  }
}

c10::optional<at::Generator> generator_argument(const py::object& value) {
  if (value.is_none()) return c10::nullopt;
  if (py::isinstance<py::int_>(value))
    return at::make_generator<at::CPUGeneratorImpl>(value.cast<uint64_t>());
  return value.cast<at::Generator>();
}

torch::ScalarType scalar_type(const py::object& dtype) {
  return py::module_::import("torch")
      .attr("empty")(0, py::arg("dtype") = dtype)
      .cast<torch::Tensor>()
      .scalar_type();
}

py::dict named_tensors(const torch::nn::Module& module, bool buffers) {
  py::dict out;
  for (const auto& p : module.named_parameters())
    out[py::str(p.key())] = buffers ? p.value().detach() : p.value();
  if (buffers)
    for (const auto& b : module.named_buffers()) out[py::str(b.key())] = b.value().detach();
  return out;
}

}  // namespace diffeo::python
