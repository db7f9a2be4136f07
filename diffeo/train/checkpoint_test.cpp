// Training checkpoints: a paused, interrupted or resumed fit ends bit-identical
// to one that never stopped, and a checkpoint of another run is refused.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diffeo_checkpoint_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    torch::manual_seed(5);
    data_ = torch::randn({300, 2}) * torch::tensor({1.5f, 0.5f});
    validation_ = torch::randn({100, 2});
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static flows::Flow flow(int64_t hidden = 8) {
    return flows::build("maf", flows::FlowOptions(2).layers(2).hidden({hidden}).seed(3));
  }
  // Short runs that still cross epochs (300 rows, batches of 64), validations
  // and improvements of the best snapshot.
  FitOptions options() const {
    return FitOptions().steps(40).batch_size(64).learning_rate(0.01).validate_every(10).checkpoint(
        path("run.ckpt"));
  }
  FitReport fit_data(flows::Flow model, const FitOptions& o) const {
    return fit(model, data_, o, {}, validation_);
  }

  fs::path dir_;
  torch::Tensor data_, validation_;
};

void expect_identical(const flows::Flow& a, const flows::Flow& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::equal(pa[i].value(), pb[i].value())) << pa[i].key();
}

void expect_same_history(const FitReport& a, const FitReport& b) {
  ASSERT_EQ(a.train_loss.size(), b.train_loss.size());
  for (size_t i = 0; i < a.train_loss.size(); ++i)
    EXPECT_EQ(a.train_loss[i], b.train_loss[i]) << "step " << i + 1;  // bit for bit
  EXPECT_EQ(a.validation_loss, b.validation_loss);
  EXPECT_EQ(a.best_validation, b.best_validation);
}

TEST_F(Checkpoints, APausedAndResumedFitIsBitIdenticalToOneRun) {
  auto straight = flow();
  const auto whole = fit_data(straight, options());

  auto first = flow();
  const auto paused = fit_data(first, options().stop_after(17));
  EXPECT_EQ(paused.stop_reason, "paused");
  EXPECT_EQ(paused.steps, 17);
  ASSERT_TRUE(fs::exists(path("run.ckpt")));

  auto second = flow();  // a fresh process would rebuild the model the same way
  const auto resumed = fit_data(second, options().resume(true));
  EXPECT_EQ(resumed.stop_reason, "steps");
  EXPECT_EQ(resumed.steps, 40);
  expect_identical(second, straight);
  expect_same_history(resumed, whole);
}

TEST_F(Checkpoints, ResumingTwiceAndFromPeriodicCheckpointsAlsoMatches) {
  auto straight = flow();
  const auto whole = fit_data(straight, options());
  auto model = flow();
  fit_data(model, options().stop_after(9));
  model = flow();
  fit_data(model, options().resume(true).stop_after(23).checkpoint_every(5));
  model = flow();
  const auto last = fit_data(model, options().resume(true));
  expect_identical(model, straight);
  expect_same_history(last, whole);
}

TEST_F(Checkpoints, FreshBatchesFromASamplerResumeExactly) {
  const auto& banana = data::toy("banana");
  auto o = FitOptions().steps(30).batch_size(32).validate_every(10).checkpoint(path("toy.ckpt"));
  auto build = [&] {
    return toy_flow("realnvp", banana, flows::FlowOptions(2).layers(2).hidden({8}), 0);
  };
  auto straight = build();
  const auto whole = fit(straight, toy_sampler(banana), o);
  auto model = build();
  fit(model, toy_sampler(banana), FitOptions(o).stop_after(12));
  model = build();
  const auto resumed = fit(model, toy_sampler(banana), FitOptions(o).resume(true));
  expect_identical(model, straight);
  expect_same_history(resumed, whole);
}

TEST_F(Checkpoints, ASignalEndsTheStepSavesAndResumesExactly) {
  auto straight = flow();
  const auto whole = fit_data(straight, options());

  auto model = flow();
  auto raise_at_13 = [](int64_t step, double) {
    if (step == 13) std::raise(SIGINT);
  };
  const auto interrupted =
      fit_data(model, options().handle_signals(true).on_step(raise_at_13));
  EXPECT_EQ(interrupted.stop_reason, "interrupted");
  EXPECT_EQ(interrupted.signal, SIGINT);
  EXPECT_EQ(interrupted.steps, 13);
  EXPECT_TRUE(fs::exists(path("run.ckpt")));

  model = flow();
  const auto resumed = fit_data(model, options().resume(true));
  expect_identical(model, straight);
  expect_same_history(resumed, whole);
}

TEST_F(Checkpoints, ACheckpointOfAnotherRunIsRefused) {
  fit_data(flow(), options().stop_after(5));
  expect_error([&] { fit_data(flow(), options().steps(50).resume(true)); },
               {"cannot resume", "run.ckpt", "steps = 40", "50"});
  expect_error([&] { fit_data(flow(), options().learning_rate(0.02).resume(true)); },
               {"cannot resume", "learning_rate"});
  expect_error([&] { fit_data(flow(16), options().resume(true)); },
               {"cannot resume", "another model", "shape"});
  expect_error([&] { fit(flow(), data_ * 2, options().resume(true), {}, validation_); },
               {"cannot resume", "other training data"});
  expect_error([&] { fit_data(flow(), options().checkpoint(path("none.ckpt")).resume(true)); },
               {"none.ckpt", "missing"});
  io::save(flow(), path("model.flow"));
  expect_error([&] { fit_data(flow(), options().checkpoint(path("model.flow")).resume(true)); },
               {"model.flow", "not a training checkpoint", "model file"});
  expect_error([&] { fit_data(flow(), FitOptions().steps(5).resume(true)); },
               {"fit:", "checkpoint"});
}

TEST_F(Checkpoints, APeriodicCheckpointThatCannotBeWrittenDoesNotEndTraining) {
  auto model = flow();
  const auto report =
      fit_data(model, options().checkpoint(path("missing_dir/run.ckpt")).checkpoint_every(10));
  EXPECT_EQ(report.steps, 40);
  EXPECT_EQ(report.stop_reason, "steps");
  // A pause cannot keep its promise without the file: that is an error.
  expect_error([&] { fit_data(flow(), options().checkpoint(path("missing_dir/run.ckpt")).stop_after(3)); },
               {"missing_dir/run.ckpt"});
}

TEST_F(Checkpoints, ADamagedCheckpointIsRefused) {
  fit_data(flow(), options().stop_after(5));
  const auto size = fs::file_size(path("run.ckpt"));
  fs::resize_file(path("run.ckpt"), size - 10);
  expect_error([&] { fit_data(flow(), options().resume(true)); }, {"run.ckpt", "truncated"});
}

}  // namespace
}  // namespace diffeo::train
