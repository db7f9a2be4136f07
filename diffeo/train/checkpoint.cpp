#include "diffeo/train/checkpoint.h"

#include <cmath>
#include <limits>

#include "diffeo/core/error.h"
#include "diffeo/io/archive.h"

namespace diffeo::train {

namespace {

const char* kFormat = "diffeo-checkpoint/1";

json finite_or_null(double value) { return std::isfinite(value) ? json(value) : json(); }

double number_or(const json& value, double otherwise) {
  return value.is_null() ? otherwise : value.get<double>();
}

// The tensor `name` of `archive`, or a diffeo::Error naming the file.
const torch::Tensor& tensor(const io::Archive& archive, const std::string& name,
                            const std::string& file) {
  const auto* found = archive.find(name);
  if (found == nullptr) throw Error(file + " is corrupt: it lacks the tensor '" + name + "'");
  return *found;
}

}  // namespace

json fit_fingerprint(const FitOptions& o) {
  return {{"steps", o.steps()},
          {"time_limit", o.time_limit()},
          {"batch_size", o.batch_size()},
          {"learning_rate", o.learning_rate()},
          {"schedule", o.schedule()},
          {"clip_grad_norm", o.clip_grad_norm()},
          {"validate_every", o.validate_every()},
          {"patience", o.patience()},
          {"seed", o.seed()},
          {"max_bad_steps", o.max_bad_steps()}};
}

void write_checkpoint(const FitCheckpoint& c, const std::string& path) {
  io::Archive archive;
  const auto& r = c.report;
  archive.meta = {{"format", kFormat},
                  {"options", c.options},
                  {"data", c.data},
                  {"step", c.step},
                  {"bad_in_a_row", c.bad_in_a_row},
                  {"since_improvement", c.since_improvement},
                  {"last_validation", finite_or_null(c.last_validation)},
                  {"report",
                   {{"steps", r.steps},
                    {"skipped_steps", r.skipped_steps},
                    {"best_validation", finite_or_null(r.best_validation)},
                    {"seconds", r.seconds}}},
                  {"adam_steps", c.adam_steps},
                  {"adam_groups", c.first_moments.size()},
                  {"best", c.best.size()}};
  auto& tensors = archive.tensors;
  tensors.emplace_back("report.train_loss", torch::tensor(r.train_loss, torch::kFloat64));
  std::vector<double> validation;
  for (const auto& [step, loss] : r.validation_loss) {
    validation.push_back(static_cast<double>(step));
    validation.push_back(loss);
  }
  tensors.emplace_back("report.validation_loss",
                       torch::tensor(validation, torch::kFloat64).reshape({-1, 2}));
  tensors.emplace_back("generator", c.generator_state);
  for (const auto& [name, value] : c.model) tensors.emplace_back("model." + name, value);
  for (size_t i = 0; i < c.best.size(); ++i)
    tensors.emplace_back("best." + std::to_string(i), c.best[i]);
  for (size_t g = 0; g < c.first_moments.size(); ++g) {
    tensors.emplace_back("adam." + std::to_string(g) + ".first", c.first_moments[g]);
    tensors.emplace_back("adam." + std::to_string(g) + ".second", c.second_moments[g]);
  }
  io::write_archive(archive, path, "write_checkpoint");
}

FitCheckpoint read_checkpoint(const std::string& path) {
  const auto archive = io::read_archive(path, "read_checkpoint");
  const std::string file = "read_checkpoint: '" + path + "'";
  const auto& meta = archive.meta;
  if (!meta.contains("format") || meta["format"] != kFormat)
    throw Error(file + " is not a training checkpoint" +
                (meta.contains("format") && meta["format"] == "diffeo-flow/2"
                     ? " (it is a model file)"
                     : ""));
  FitCheckpoint c;
  try {
    c.options = meta.at("options");
    c.data = meta.at("data");
    c.step = meta.at("step").get<int64_t>();
    c.bad_in_a_row = meta.at("bad_in_a_row").get<int64_t>();
    c.since_improvement = meta.at("since_improvement").get<int64_t>();
    c.last_validation = number_or(meta.at("last_validation"), NAN);
    const auto& r = meta.at("report");
    c.report.steps = r.at("steps").get<int64_t>();
    c.report.skipped_steps = r.at("skipped_steps").get<int64_t>();
    c.report.best_validation =
        number_or(r.at("best_validation"), std::numeric_limits<double>::infinity());
    c.report.seconds = r.at("seconds").get<double>();
    c.report.stop_reason = "steps";
    c.adam_steps = meta.at("adam_steps").get<int64_t>();
    const auto groups = meta.at("adam_groups").get<size_t>();
    const auto best = meta.at("best").get<size_t>();
    if (groups > archive.tensors.size() || best > archive.tensors.size())
      throw Error(file + " is corrupt: it announces more tensors than it holds");

    const auto train_loss = tensor(archive, "report.train_loss", file);
    const auto validation = tensor(archive, "report.validation_loss", file);
    if (train_loss.scalar_type() != torch::kFloat64 || train_loss.dim() != 1 ||
        train_loss.size(0) != c.step || validation.scalar_type() != torch::kFloat64 ||
        validation.dim() != 2 || validation.size(1) != 2)
      throw Error(file + " is corrupt: its loss history does not match its step " +
                  std::to_string(c.step));
    c.report.train_loss.assign(train_loss.data_ptr<double>(),
                               train_loss.data_ptr<double>() + train_loss.numel());
    for (int64_t i = 0; i < validation.size(0); ++i)
      c.report.validation_loss.emplace_back(validation[i][0].item<double>(),
                                            validation[i][1].item<double>());
    c.generator_state = tensor(archive, "generator", file);
    for (const auto& [name, value] : archive.tensors)
      if (name.rfind("model.", 0) == 0) c.model.emplace_back(name.substr(6), value);
    for (size_t i = 0; i < best; ++i)
      c.best.push_back(tensor(archive, "best." + std::to_string(i), file));
    for (size_t g = 0; g < groups; ++g) {
      c.first_moments.push_back(tensor(archive, "adam." + std::to_string(g) + ".first", file));
      c.second_moments.push_back(tensor(archive, "adam." + std::to_string(g) + ".second", file));
    }
  } catch (const json::exception& e) {
    throw Error(file + " is corrupt: " + e.what());
  }
  return c;
}

}  // namespace diffeo::train
