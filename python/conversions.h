#pragma once
// What every file of diffeo's Python bindings shares: Python arguments as
// LibTorch values, and the methods every bound torch::nn::Module has.

#include <torch/extension.h>

#include <string>

namespace diffeo::python {

/// A tensor argument: torch tensors as they are, numpy arrays without a copy
/// when they can be (torch.as_tensor), None as an undefined tensor; a
/// diffeo::Error for anything else.
torch::Tensor tensor_argument(const pybind11::object& value);

/// A torch.Generator, an int seed (a fresh generator seeded with it) or None.
c10::optional<at::Generator> generator_argument(const pybind11::object& value);

/// A torch.dtype (torch.float64, ...) as LibTorch's scalar type.
torch::ScalarType scalar_type(const pybind11::object& dtype);

/// {name: tensor} of a module's parameters (and, with buffers, its buffers, detached).
pybind11::dict named_tensors(const torch::nn::Module& module, bool buffers);

/// The methods of a torch::nn::Module held by `Holder` (a ModuleHolder:
/// Distribution, Flow, Bijector, ConditionalHINT): parameters,
/// named_parameters, state_dict, to(dtype), train and eval.
template <typename Holder>
void module_methods(pybind11::class_<Holder>& c) {
  namespace py = pybind11;
  c.def(
       "parameters", [](Holder& m) { return m->parameters(); },
       "The trainable tensors (the model's own: optimizers update them in place)")
      .def(
          "named_parameters", [](Holder& m) { return named_tensors(*m, false); },
          "{name: tensor} of the trainable tensors")
      .def(
          "state_dict", [](Holder& m) { return named_tensors(*m, true); },
          "{name: tensor} of parameters and buffers (detached views)")
      .def(
          "to",
          [](Holder& m, const py::object& dtype) {
            m->to(scalar_type(dtype));
            return m;
          },
          py::arg("dtype"), "Converts the parameters to dtype (e.g. torch.float64); returns self")
      .def(
          "train",
          [](Holder& m, bool on) {
            m->train(on);
            return m;
          },
          py::arg("mode") = true,
          "Training mode (ActNorm initialises itself from its first batch in it); returns self")
      .def(
          "eval",
          [](Holder& m) {
            m->eval();
            return m;
          },
          "Evaluation mode; returns self");
}

}  // namespace diffeo::python
