// Saving and loading flows: exact round trips, atomic writes, clear errors.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::io {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class SaveLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diffeo_io_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// Trained-looking weights: every parameter perturbed, ActNorm initialised.
flows::Flow trained(const std::string& name, const std::vector<double>& mean = {},
                    const std::vector<double>& scale = {}) {
  torch::manual_seed(4);
  auto flow = flows::build(name, flows::FlowOptions(3).layers(2).hidden({8}), mean, scale);
  flow->log_prob(torch::randn({32, 3}) * 3);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.1);
  return flow;
}

TEST_F(SaveLoad, EveryFlowReproducesLogProbExactly) {
  for (std::string name : {"maf", "realnvp", "nsf", "glow"}) {
    auto flow = trained(name, {1.0, 2.0, 3.0}, {0.5, 1.0, 2.0});
    flow->eval();
    save(flow, path(name + ".flow"));
    auto loaded = load(path(name + ".flow"));
    auto x = torch::randn({50, 3}) * 2;
    EXPECT_TRUE(torch::equal(loaded->log_prob(x), flow->log_prob(x))) << name;
    EXPECT_EQ(loaded->spec(), flow->spec()) << name;
  }
}

TEST_F(SaveLoad, Float64ModelsStayFloat64) {
  auto flow = trained("maf");
  flow->to(torch::kFloat64);
  save(flow, path("m.flow"));
  auto loaded = load(path("m.flow"));
  auto x = torch::randn({5, 3}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(loaded->log_prob(x), flow->log_prob(x)));
}

TEST_F(SaveLoad, ALoadedGlowIsNotReinitialised) {
  auto flow = trained("glow");
  save(flow, path("g.flow"));
  auto loaded = load(path("g.flow"));
  loaded->train();
  auto x = torch::randn({20, 3}) * 10 + 5;  // would re-initialise ActNorm if it could
  EXPECT_TRUE(torch::equal(loaded->log_prob(x), flow->log_prob(x)));
}

TEST_F(SaveLoad, AFailedSaveLeavesThePreviousModelIntact) {
  auto first = trained("maf");
  save(first, path("m.flow"));
  const auto size = fs::file_size(path("m.flow"));
  expect_error([&] { save(first, path("missing_dir/m.flow")); }, {"io::save", "missing_dir"});
  EXPECT_EQ(fs::file_size(path("m.flow")), size);
  for (const auto& entry : fs::directory_iterator(dir_))  // no temporary left behind
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos);
}

TEST_F(SaveLoad, BadFilesGiveClearErrors) {
  expect_error([&] { (void)load(path("absent.flow")); }, {"io::load", "absent.flow", "missing"});

  std::ofstream(path("text.flow")) << "not a model\n";
  expect_error([&] { (void)load(path("text.flow")); }, {"io::load", "text.flow"});

  auto flow = trained("maf");
  save(flow, path("m.flow"));
  fs::copy_file(path("m.flow"), path("cut.flow"));
  fs::resize_file(path("cut.flow"), fs::file_size(path("m.flow")) / 2);
  expect_error([&] { (void)load(path("cut.flow")); }, {"io::load", "cut.flow"});

  torch::serialize::OutputArchive other;  // a LibTorch archive, not ours
  other.write("weights", torch::ones({2}));
  other.save_to(path("other.pt"));
  expect_error([&] { (void)load(path("other.pt")); }, {"not a diffeo model", "'format'"});
}

}  // namespace
}  // namespace diffeo::io
