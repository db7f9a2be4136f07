#include "diffeo/io/save_load.h"

#include <cstdio>
#include <fstream>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::io {

static const char* kFormat = "diffeo-flow/1";

// Every parameter and buffer under its dotted path ("base.loc", "bijector.0.made.weight0").
static std::vector<std::pair<std::string, torch::Tensor>> state(const flows::Flow& flow) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& p : flow->named_parameters()) items.emplace_back(p.key(), p.value());
  for (const auto& b : flow->named_buffers()) items.emplace_back(b.key(), b.value());
  return items;
}

void save(const flows::Flow& flow, const std::string& path) {
  if (flow.is_empty()) throw Error("io::save: argument 'flow' is empty");
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("spec", c10::IValue(flow->spec().dump()));
  archive.write("dtype", c10::IValue(std::string(flow->options().dtype().name())));
  for (const auto& [name, tensor] : state(flow))
    archive.write("state." + name, tensor.detach().cpu());

  AtomicFile file(path, "io::save");
  try {
    archive.save_to(file.temporary());
  } catch (const c10::Error& e) {
    file.fail(e.what_without_backtrace());
  }
  file.commit();
}

static std::string read_string(torch::serialize::InputArchive& archive, const std::string& key,
                               const std::string& path) {
  c10::IValue value;
  if (!archive.try_read(key, value) || !value.isString())
    throw Error("io::load: '" + path + "' is not a diffeo model (no '" + key + "' entry)");
  return value.toStringRef();
}

flows::Flow load(const std::string& path) {
  if (!std::ifstream(path).good())
    throw Error("io::load: cannot open '" + path + "' (missing or unreadable)");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw Error("io::load: '" + path + "' is not a readable model file (truncated, corrupt or " +
                "another format): " + e.what_without_backtrace());
  }
  const auto format = read_string(archive, "format", path);
  if (format != kFormat)
    throw Error("io::load: '" + path + "' has format '" + format + "', expected '" + kFormat + "'");
  json spec;
  try {
    spec = json::parse(read_string(archive, "spec", path));
  } catch (const json::exception& e) {
    throw Error("io::load: '" + path + "' holds an unreadable spec: " + e.what());
  }
  auto flow = flows::build(spec);
  const auto dtype = read_string(archive, "dtype", path);
  if (dtype == "double") flow->to(torch::kFloat64);

  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state(flow)) {
    torch::Tensor stored;
    if (!archive.try_read("state." + name, stored))
      throw Error("io::load: '" + path + "' lacks the tensor '" + name + "' its spec needs");
    if (!stored.sizes().equals(tensor.sizes()))
      throw Error("io::load: '" + path + "' holds '" + name + "' of shape " +
                  shape_string(stored.sizes()) + " but its spec needs " +
                  shape_string(tensor.sizes()));
    tensor.copy_(stored);
  }
  return flow;
}

}  // namespace diffeo::io
