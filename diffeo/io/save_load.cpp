#include "diffeo/io/save_load.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/io/archive.h"

namespace diffeo::io {

static const char* kFormat = "diffeo-flow/2";

// Every parameter and buffer under its dotted path ("base.loc", "bijector.0.made.weight0").
static std::vector<std::pair<std::string, torch::Tensor>> state(const flows::Flow& flow) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& p : flow->named_parameters()) items.emplace_back(p.key(), p.value());
  for (const auto& b : flow->named_buffers()) items.emplace_back(b.key(), b.value());
  return items;
}

void save(const flows::Flow& flow, const std::string& path) {
  if (flow.is_empty()) throw Error("io::save: argument 'flow' is empty");
  Archive archive;
  archive.meta = {{"format", kFormat},
                  {"spec", flow->spec()},
                  {"dtype", flow->options().dtype() == torch::kFloat64 ? "float64" : "float32"}};
  for (const auto& [name, tensor] : state(flow)) {
    if (tensor.is_floating_point() && !torch::isfinite(tensor).all().item<bool>())
      throw Error("io::save: the flow's tensor '" + name +
                  "' holds NaN or infinite values; refusing to write '" + path +
                  "' (a diverged training? lower the learning rate)");
    archive.tensors.emplace_back(name, tensor.detach());
  }
  write_archive(archive, path, "io::save");
}

flows::Flow load(const std::string& path) {
  const auto archive = read_archive(path, "io::load");
  const std::string file = "io::load: '" + path + "'";
  const auto& meta = archive.meta;
  if (!meta.contains("format") || !meta["format"].is_string())
    throw Error(file + " is not a diffeo model (a diffeo file without a format tag)");
  if (meta["format"] != kFormat)
    throw Error(file + " holds '" + meta["format"].get<std::string>() + "', not a model ('" +
                kFormat + "')" +
                (meta["format"] == "diffeo-checkpoint/1"
                     ? "; a training checkpoint continues with 'diffeo train --resume'"
                     : ""));
  if (!meta.contains("spec") || !meta.contains("dtype") || !meta["dtype"].is_string())
    throw Error(file + " is corrupt: it lacks the flow's spec or dtype");
  flows::Flow flow = nullptr;
  try {
    flow = flows::build(meta["spec"]);
  } catch (const Error& e) {
    throw Error(file + " holds a spec this diffeo cannot build: " + e.what());
  } catch (const std::exception& e) {  // json type errors, allocation failures
    throw Error(file + " holds a spec this diffeo cannot build: " + e.what());
  }
  if (meta["dtype"] == "float64") flow->to(torch::kFloat64);

  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state(flow)) {
    const auto* stored = archive.find(name);
    if (stored == nullptr)
      throw Error(file + " lacks the tensor '" + name + "' its spec needs");
    if (!stored->sizes().equals(tensor.sizes()))
      throw Error(file + " holds '" + name + "' of shape " + shape_string(stored->sizes()) +
                  " but its spec needs " + shape_string(tensor.sizes()));
    if (stored->is_floating_point() && !torch::isfinite(*stored).all().item<bool>())
      throw Error(file + " holds NaN or infinite values in '" + name + "'");
    tensor.copy_(*stored);
  }
  return flow;
}

}  // namespace diffeo::io
