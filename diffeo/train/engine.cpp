// The training engine: one loop for every objective and data source (fit.h).
#include "diffeo/train/fit.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/interrupt.h"
#include "diffeo/distributed/group_aware.h"
#include "diffeo/train/checkpoint.h"
#include "diffeo/train/flat_adam.h"
#include "diffeo/train/gradient_buckets.h"

namespace diffeo::train {

namespace {

using Clock = std::chrono::steady_clock;

void check_fit_options(const FitOptions& o) {
  check_positive(o.steps(), "steps", "fit");
  check_positive(o.batch_size(), "batch_size", "fit");
  if (!(o.learning_rate() > 0) || !std::isfinite(o.learning_rate()))
    throw Error("fit: argument 'learning_rate' must be positive, got " +
                number_string(o.learning_rate()));
  if (o.schedule() != "cosine" && o.schedule() != "constant")
    throw Error("fit: argument 'schedule' is '" + o.schedule() +
                "'; expected 'cosine' or 'constant'");
  if (o.clip_grad_norm() < 0) throw Error("fit: argument 'clip_grad_norm' must be >= 0");
  if (o.validate_every() < 0 || o.patience() < 0 || o.log_every() < 0)
    throw Error("fit: 'validate_every', 'patience' and 'log_every' must be >= 0");
  check_positive(o.max_bad_steps(), "max_bad_steps", "fit");
  if (!(o.time_limit() >= 0) || !std::isfinite(o.time_limit()))
    throw Error("fit: argument 'time_limit' must be >= 0 seconds (0: none), got " +
                number_string(o.time_limit()));
  if (o.checkpoint_every() < 0 || o.stop_after() < 0)
    throw Error("fit: 'checkpoint_every' and 'stop_after' must be >= 0 (0: never)");
  if (!(o.checkpoint_seconds() >= 0) || !std::isfinite(o.checkpoint_seconds()))
    throw Error("fit: argument 'checkpoint_seconds' must be >= 0 (0: never), got " +
                number_string(o.checkpoint_seconds()));
  check_positive(o.bucket_bytes(), "bucket_bytes", "fit");
  if (o.checkpoint().empty() && (o.resume() || o.stop_after() > 0 || o.checkpoint_every() > 0 ||
                                 o.checkpoint_seconds() > 0))
    throw Error("fit: 'resume', 'stop_after' and checkpoint intervals need a 'checkpoint' file");
}

// This process's place in the run: rank 0 of 1 without a process group.
struct Place {
  int rank = 0, world_size = 1;
};
Place place(const FitOptions& o) {
  const auto& group = o.process_group();
  return group ? Place{group->getRank(), group->getSize()} : Place{};
}

bool ends_with(const std::string& name, const std::string& tail) {
  return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

// What data parallelism cannot do yet, refused before any collective.
void check_data_parallel(const FitOptions& o) {
  const auto where = place(o);
  if (where.world_size == 1) return;
  if (o.batch_size() < where.world_size)
    throw Error("fit: batch_size " + std::to_string(o.batch_size()) + " is smaller than the " +
                std::to_string(where.world_size) + " ranks it is split over");
}

// Hands `group` to the modules that compute across ranks (GroupAware:
// BatchNorm's global-batch statistics) for the duration of a fit.
class GroupScope {
 public:
  GroupScope(torch::nn::Module& model, const distributed::ProcessGroup& group) {
    if (!group) return;
    for (const auto& module : model.modules())
      if (auto* aware = dynamic_cast<distributed::GroupAware*>(module.get())) {
        aware->set_process_group(group);
        members_.push_back(aware);
      }
  }
  ~GroupScope() {
    for (auto* aware : members_) aware->set_process_group({});
  }
  GroupScope(const GroupScope&) = delete;
  GroupScope& operator=(const GroupScope&) = delete;

 private:
  std::vector<distributed::GroupAware*> members_;
};

// Whether a layer still waits for its data-dependent initialisation (ActNorm).
bool awaits_data_init(torch::nn::Module& model) {
  for (const auto& buffer : model.named_buffers())
    if (ends_with(buffer.key(), "initialized") && buffer.value().item<double>() < 0.5) return true;
  return false;
}

std::vector<torch::Tensor> snapshot(torch::nn::Module& model) {
  std::vector<torch::Tensor> copies;
  for (const auto& p : model.parameters()) copies.push_back(p.detach().clone());
  for (const auto& b : model.buffers()) copies.push_back(b.detach().clone());
  return copies;
}

void restore(torch::nn::Module& model, const std::vector<torch::Tensor>& copies) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : model.parameters()) p.copy_(copies[i++]);
  for (auto& b : model.buffers()) b.copy_(copies[i++]);
}

// printf's "%.4f" of v, however many digits it takes.
std::string fixed4(double v) {
  std::string s(static_cast<size_t>(std::snprintf(nullptr, 0, "%.4f", v)), '\0');
  std::snprintf(s.data(), s.size() + 1, "%.4f", v);
  return s;
}

// Prints progress on stderr, a redrawn bar on a terminal and log lines
// otherwise, or hands the log lines to FitOptions::progress_sink.  Under a
// time limit the bar and lines show the minutes as well.
class Progress {
 public:
  explicit Progress(const FitOptions& o)
      : options_(o), tty_(!o.progress_sink() && ::isatty(STDERR_FILENO)) {}
  void update(int64_t step, double loss, double validation, double seconds, bool last) {
    if (!options_.progress()) return;
    const double limit = options_.time_limit();
    double fraction = static_cast<double>(step) / options_.steps();
    if (limit > 0) fraction = std::max(fraction, seconds / limit);
    // "12/5000" without a time limit, "12 (1.5/60.0 min)" under one.
    char where[96];
    if (limit > 0)
      std::snprintf(where, sizeof where, "%lld (%.1f/%.1f min)", static_cast<long long>(step),
                    seconds / 60, limit / 60);
    else
      std::snprintf(where, sizeof where, "%lld/%lld", static_cast<long long>(step),
                    static_cast<long long>(options_.steps()));
    if (tty_) {
      const int width = 30;
      const int filled = static_cast<int>(width * std::min(1.0, last ? 1.0 : fraction));
      std::fprintf(stderr, "\r[%s%s] %s loss %.4f%s", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), where, loss, last ? "\n" : "");
    } else if (last || (options_.log_every() > 0 && step % options_.log_every() == 0)) {
      std::string line = "step " + std::string(where) + " loss " + fixed4(loss);
      if (std::isfinite(validation)) line += " validation " + fixed4(validation);
      line += "\n";
      if (options_.progress_sink())
        options_.progress_sink()(line);
      else
        std::fputs(line.c_str(), stderr);
    }
  }

 private:
  const FitOptions& options_;
  bool tty_;
};

// Every parameter and buffer by name: what a checkpoint stores of the model.
std::vector<std::pair<std::string, torch::Tensor>> named_state(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& p : model.named_parameters()) items.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) items.emplace_back(b.key(), b.value());
  return items;
}

// The run's state between steps, as the loop keeps it.
struct LoopState {
  FitReport report;
  std::vector<torch::Tensor> best;
  int64_t bad_in_a_row = 0, since_improvement = 0;
  double last_validation = NAN;
};

// Restores a checkpoint into the model, optimizer, generator and loop state,
// after checking that it belongs to this run; returns the steps it had done.
int64_t resume(const FitOptions& options, const json& data, torch::nn::Module& model, FlatAdam& adam,
               at::Generator& generator, LoopState& state) {
  const std::string& path = options.checkpoint();
  if (path.empty()) throw Error("fit: 'resume' needs the 'checkpoint' file to continue from");
  auto c = read_checkpoint(path);
  const std::string refused = "fit: cannot resume from '" + path + "': ";
  const auto fingerprint = fit_fingerprint(options);
  for (const auto& [key, value] : fingerprint.items())
    if (!c.options.contains(key) || c.options[key] != value)
      throw Error(refused + "it was written with " + key + " = " +
                  (c.options.contains(key) ? c.options[key].dump() : "(none)") +
                  ", this run has " + value.dump() + "; resume with the interrupted run's options");
  if (c.data != data)
    throw Error(refused + "it was written for other training data (" + c.data.dump() +
                "; now " + data.dump() + ")");
  auto state_now = named_state(model);
  if (c.model.size() != state_now.size())
    throw Error(refused + "it holds " + std::to_string(c.model.size()) +
                " model tensors, this model has " + std::to_string(state_now.size()) +
                " (another flow type or size?)");
  // The best snapshot lists the same tensors in the same order (parameters, then buffers).
  if (c.step > options.steps() || c.best.size() != state_now.size())
    throw Error(refused + "it is inconsistent (step " + std::to_string(c.step) + ")");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < state_now.size(); ++i) {
    const auto& [name, tensor] = state_now[i];
    const auto& [saved_name, saved] = c.model[i];
    if (saved_name != name || !saved.sizes().equals(tensor.sizes()) ||
        !c.best[i].sizes().equals(tensor.sizes()))
      throw Error(refused + "it was written for another model: it holds '" + saved_name +
                  "' of shape " + shape_string(saved.sizes()) + " where this model has '" + name +
                  "' of shape " + shape_string(tensor.sizes()));
    tensor.copy_(saved);
  }
  adam.restore(c.adam_steps, c.first_moments, c.second_moments);
  // Each rank continues its own stream when the run had as many ranks; with
  // another count (or a one-process checkpoint) rank 0 continues the first
  // and the others keep their fresh streams (a data set loses nothing: its
  // order depends on the step alone).
  const auto where = place(options);
  const auto& saved = c.generator_state;
  const bool per_rank = saved.defined() && saved.dim() == 2;
  try {
    std::lock_guard<std::mutex> lock(generator.mutex());
    if (per_rank && saved.size(0) == where.world_size)
      generator.set_state(saved[where.rank]);
    else if (where.rank == 0)
      generator.set_state(per_rank ? saved[0] : saved);
  } catch (const c10::Error& e) {
    throw Error(refused + "its generator state is damaged: " + e.what_without_backtrace());
  }
  state.report = std::move(c.report);
  state.best = std::move(c.best);
  state.bad_in_a_row = c.bad_in_a_row;
  state.since_improvement = c.since_improvement;
  state.last_validation = c.last_validation;
  return c.step;
}

// This rank's generator state, or under data parallelism every rank's
// [world_size, state] (a collective: every rank calls it at the same step).
torch::Tensor generator_states(at::Generator& generator, const FitOptions& options) {
  torch::Tensor state;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    state = generator.get_state();
  }
  return options.process_group() ? distributed::all_gather(state, options.process_group()) : state;
}

void save_checkpoint(const FitOptions& options, const json& data, int64_t step,
                     torch::nn::Module& model, const FlatAdam& adam,
                     const torch::Tensor& generator_states, const LoopState& state) {
  FitCheckpoint c;
  c.options = fit_fingerprint(options);
  c.data = data;
  c.step = step;
  c.report = state.report;
  c.bad_in_a_row = state.bad_in_a_row;
  c.since_improvement = state.since_improvement;
  c.last_validation = state.last_validation;
  c.generator_state = generator_states;
  c.model = named_state(model);
  c.best = state.best;
  c.adam_steps = adam.steps();
  for (const auto& group : adam.groups()) {
    c.first_moments.push_back(group.first_moment);
    c.second_moments.push_back(group.second_moment);
  }
  write_checkpoint(c, options.checkpoint());
}

}  // namespace

FitReport fit(Objective& objective, DataSource& source, const FitOptions& options) {
  check_fit_options(options);
  const auto start = Clock::now();
  const auto& group = options.process_group();
  const auto where = place(options);
  auto& model = objective.module();
  check_data_parallel(options);
  // This rank's rows of every global batch (a data set caps the batch at its size).
  const int64_t global_rows = source.global_rows(options.batch_size());
  if (global_rows < where.world_size)
    throw Error("fit: the data set's " + std::to_string(global_rows) +
                " rows cannot be split over " + std::to_string(where.world_size) + " ranks");
  const auto shard = distributed::shard(global_rows, where.rank, where.world_size);
  // What identifies the data in checkpoints (null: fresh draws).
  const json data = options.checkpoint().empty() ? json() : source.fingerprint();
  model.train();
  // Fresh batches: rank 0 draws the seed's stream, the others their own.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(
      where.rank == 0 ? options.seed() : stream_seed(options.seed(), -1 - where.rank));
  if (group) {
    // Data-dependent initialisation (ActNorm) as one process does it at step
    // 1, from the whole first global batch: rank 0 evaluates the objective on
    // it, drawing from a copy of its stream (its own draws stay as they are),
    // puts back every other buffer it changed (BatchNorm's running averages,
    // which step 1 then updates as in one process), and the broadcast hands
    // the result to every rank.
    if (where.rank == 0 && !options.resume() && awaits_data_init(model)) {
      torch::NoGradGuard no_grad;
      std::vector<std::pair<torch::Tensor, torch::Tensor>> kept;
      for (const auto& buffer : model.named_buffers())
        if (!ends_with(buffer.key(), "initialized"))
          kept.emplace_back(buffer.value(), buffer.value().clone());
      // A copy of the stream by its state: LibTorch 1.13's Generator::clone leaks the copy.
      auto copy = at::make_generator<at::CPUGeneratorImpl>();
      {
        std::lock_guard<std::mutex> lock(generator.mutex());
        copy.set_state(generator.get_state());
      }
      const Batch whole{source.batch(1, global_rows, {0, global_rows}, options.seed(), copy), 1,
                        global_rows, global_rows};
      objective.loss(whole, copy);
      for (auto& [buffer, value] : kept) buffer.copy_(value);
    }
    distributed::broadcast_module(model, group);
  }
  const GroupScope across_ranks(model, group);
  auto parameters = model.parameters();
  if (parameters.empty()) throw Error("fit: the model has no learnable parameters");
  auto adam_options = FlatAdamOptions().learning_rate(options.learning_rate());
  // The buckets' all-reduce sums the gradients where they lie in the flat buffer.
  if (group) adam_options.hand_over_gradients_from(std::numeric_limits<int64_t>::max());
  FlatAdam adam(parameters, adam_options);
  std::optional<GradientBuckets> buckets;
  if (group) buckets.emplace(adam, parameters, group, options.bucket_bytes());

  LoopState state;
  auto& report = state.report;
  report.best_validation = std::numeric_limits<double>::infinity();
  state.best = snapshot(model);
  int64_t done = 0;
  if (options.resume()) done = resume(options, data, model, adam, generator, state);
  const double earlier_seconds = report.seconds;  // of the runs this one continues
  report.stop_reason = "steps";
  Progress progress(options);
  std::optional<InterruptGuard> interrupts;
  if (options.handle_signals()) interrupts.emplace();

  // Training time: the wall time without the on_step callbacks (sample grids
  // and the like), so the time limit and the schedule measure the training.
  double in_callbacks = 0;
  auto elapsed = [&] {
    return earlier_seconds +
           std::chrono::duration<double>(Clock::now() - start).count() - in_callbacks;
  };
  // What decisions rest on, agreed by all ranks: the mean training time and
  // any rank's signal.  Under data parallelism they travel with the loss in
  // the step's one small all-reduce (each small collective costs ~1 ms of
  // latency); in one process they are this process's own.
  double agreed_seconds = earlier_seconds;
  int agreed_interrupt = 0;
  auto local_signal = [&] { return interrupts ? InterruptGuard::received() : 0; };
  auto agreed_elapsed = [&] { return group ? agreed_seconds : elapsed(); };
  auto agreed_signal = [&] { return group ? agreed_interrupt : local_signal(); };
  const bool writes = where.rank == 0;  // progress and checkpoints
  double last_checkpoint = agreed_elapsed();
  for (int64_t step = done + 1; step <= options.steps(); ++step) {
    if (options.schedule() == "cosine") {
      double t = static_cast<double>(step - 1) / options.steps();
      if (options.time_limit() > 0)
        t = std::min(1.0, std::max(t, agreed_elapsed() / options.time_limit()));
      adam.set_learning_rate(options.learning_rate() *
                             (0.01 + 0.99 * 0.5 * (1 + std::cos(M_PI * t))));
    }
    adam.zero_grad();
    Batch batch{source.batch(step, global_rows, shard, options.seed(), generator), step,
                shard.rows, global_rows};
    auto loss = objective.loss(batch, generator);
    double value = loss.item<double>();
    if (group) {
      const int signal = local_signal();
      const auto sums = distributed::all_reduce(
          {value, elapsed(), signal == SIGINT ? 1.0 : 0.0, signal == SIGTERM ? 1.0 : 0.0}, group);
      value = sums[0];  // the global batch's loss
      agreed_seconds = sums[1] / where.world_size;
      agreed_interrupt = sums[3] > 0 ? SIGTERM : sums[2] > 0 ? SIGINT : 0;
    }
    bool good = std::isfinite(value);
    if (good) {
      if (buckets) buckets->arm();
      loss.backward();
      if (buckets) buckets->finish();  // the gradients summed over ranks
      good = std::isfinite(adam.clip_grad_norm(options.clip_grad_norm()));
    }
    report.train_loss.push_back(good ? value : NAN);
    report.steps = step;
    if (good) {
      state.bad_in_a_row = 0;
      adam.step();
      if (options.on_step()) {
        const auto called = Clock::now();
        options.on_step()(step, value);
        in_callbacks += std::chrono::duration<double>(Clock::now() - called).count();
      }
      const bool validate = options.validate_every() > 0 &&
                            (step % options.validate_every() == 0 || step == options.steps());
      if (validate) {
        model.eval();  // e.g. BatchNorm: running statistics, not the validation batch's
        // Each rank evaluates its share of the held-out rows; the sums add up.
        const auto part = objective.validation_sum(where.rank, where.world_size);
        auto totals = std::vector<double>{part.sum, static_cast<double>(part.rows)};
        if (group) totals = distributed::all_reduce(totals, group);
        state.last_validation = totals[1] > 0 ? totals[0] / totals[1] : NAN;
        model.train();
        if (std::isfinite(state.last_validation)) {
          report.validation_loss.emplace_back(step, state.last_validation);
          if (state.last_validation < report.best_validation) {
            report.best_validation = state.last_validation;
            state.best = snapshot(model);
            state.since_improvement = 0;
          } else if (options.patience() > 0 && ++state.since_improvement >= options.patience()) {
            report.stop_reason = "early stopping";
          }
        }
      }
      if (options.time_limit() > 0 && agreed_elapsed() >= options.time_limit() &&
          report.stop_reason == "steps")
        report.stop_reason = "time limit";
    } else {
      // Never apply a non-finite step: the weights stay as they were.
      ++report.skipped_steps;
      if (++state.bad_in_a_row >= options.max_bad_steps()) {
        model.eval();  // the weights are those of the last good step: none was applied since
        throw Error("fit: training diverged: " + std::to_string(state.bad_in_a_row) +
                    " steps in a row gave a non-finite loss or gradient (at step " +
                    std::to_string(step) + "); the weights of the last good step were kept; " +
                    "lower the learning rate (now " + number_string(options.learning_rate()) +
                    ") or check the data for NaN/Inf");
      }
    }

    if (report.stop_reason == "steps" && step < options.steps()) {
      if (const int signal = agreed_signal(); signal != 0) {
        report.stop_reason = "interrupted";
        report.signal = signal;
      } else if (options.stop_after() > 0 && step >= options.stop_after()) {
        report.stop_reason = "paused";
      }
    }
    const bool stopping = report.stop_reason != "steps";
    const bool pausing = report.stop_reason == "paused" || report.stop_reason == "interrupted";
    if (!options.checkpoint().empty() &&
        (pausing || (options.checkpoint_every() > 0 && step % options.checkpoint_every() == 0) ||
         (options.checkpoint_seconds() > 0 &&
          agreed_elapsed() - last_checkpoint >= options.checkpoint_seconds()))) {
      report.seconds = elapsed();
      const auto streams = generator_states(generator, options);
      if (writes) {
        try {
          save_checkpoint(options, data, step, model, adam, streams, state);
        } catch (const Error& e) {
          if (pausing) throw;
          // A periodic checkpoint that cannot be written (a full disk) must not
          // end the training it protects: warn and try again next time.
          std::fprintf(stderr, "fit: warning: %s; training goes on\n", e.what());
        }
      }
      last_checkpoint = agreed_elapsed();
    }
    if (writes && (good || stopping))
      progress.update(step, value, state.last_validation, elapsed(),
                      stopping || step == options.steps());
    if (stopping) break;
  }
  const bool pausing = report.stop_reason == "paused" || report.stop_reason == "interrupted";
  if (!report.validation_loss.empty() && !pausing) restore(model, state.best);
  model.eval();
  report.seconds = elapsed();
  return report;
}


}  // namespace diffeo::train
