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
  expect_error([&] { (void)load(dir_.string()); }, {"io::load", "is a directory"});

  std::ofstream(path("empty.flow")).close();
  expect_error([&] { (void)load(path("empty.flow")); }, {"empty.flow", "is empty"});

  std::ofstream(path("text.flow")) << "not a model\n";
  expect_error([&] { (void)load(path("text.flow")); }, {"text.flow", "not a diffeo model"});

  auto flow = trained("maf");
  save(flow, path("m.flow"));
  const auto size = fs::file_size(path("m.flow"));
  for (auto cut : {size_t{20}, size / 2, size - 1}) {
    fs::copy_file(path("m.flow"), path("cut.flow"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.flow"), cut);
    expect_error([&] { (void)load(path("cut.flow")); }, {"cut.flow", "truncated"});
  }
  fs::copy_file(path("m.flow"), path("long.flow"));
  std::ofstream(path("long.flow"), std::ios::app) << "tail";
  expect_error([&] { (void)load(path("long.flow")); }, {"long.flow", "corrupt", "4 unexpected"});

  // One flipped bit anywhere after the preamble: the checksum catches it.
  for (auto at : {size_t{40}, size / 2, size - 3}) {
    fs::copy_file(path("m.flow"), path("bad.flow"), fs::copy_options::overwrite_existing);
    std::fstream file(path("bad.flow"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(at));
    const char byte = static_cast<char>(file.get() ^ 0x10);
    file.seekp(static_cast<std::streamoff>(at));
    file.put(byte);
    file.close();
    expect_error([&] { (void)load(path("bad.flow")); }, {"bad.flow", "corrupt", "checksum"});
  }

  torch::serialize::OutputArchive other;  // a LibTorch archive (diffeo 0.1's models)
  other.write("weights", torch::ones({2}));
  other.save_to(path("other.pt"));
  expect_error([&] { (void)load(path("other.pt")); }, {"not a diffeo model", "zip"});

  Archive no_format;  // a diffeo file that is not a model
  write_archive(no_format, path("plain.flow"), "test");
  expect_error([&] { (void)load(path("plain.flow")); }, {"plain.flow", "without a format tag"});
}

TEST_F(SaveLoad, NonFiniteWeightsAreNeitherSavedNorLoaded) {
  auto flow = trained("maf");
  save(flow, path("m.flow"));
  const auto size = fs::file_size(path("m.flow"));
  {
    torch::NoGradGuard no_grad;
    flow->parameters()[0].view(-1)[0] = NAN;
  }
  expect_error([&] { save(flow, path("m.flow")); }, {"io::save", "NaN or infinite", "m.flow"});
  EXPECT_EQ(fs::file_size(path("m.flow")), size);  // the good model is still there

  // A hand-made file with a NaN weight (a valid container) is refused on load.
  auto archive = read_archive(path("m.flow"), "test");
  archive.tensors[0].second.view(-1)[0] = NAN;
  write_archive(archive, path("nan.flow"), "test");
  expect_error([&] { (void)load(path("nan.flow")); }, {"nan.flow", "NaN or infinite", "'"});
}

TEST(Archive, RoundTripsEveryDtypeExactly) {
  const auto file = fs::temp_directory_path() / ("diffeo_archive_" + std::to_string(::getpid()));
  Archive archive;
  archive.meta = {{"format", "test"}, {"numbers", {1, 2.5}}};
  archive.tensors = {{"f", torch::randn({3, 4})},
                     {"d", torch::randn({2}, torch::kFloat64)},
                     {"l", torch::arange(5)},
                     {"i", torch::arange(3, torch::kInt32)},
                     {"u", torch::tensor({0, 255}, torch::kUInt8)},
                     {"b", torch::tensor({true, false})},
                     {"empty", torch::zeros({0, 3})},
                     {"scalar", torch::tensor(7.0)},
                     {"strided", torch::randn({4, 4}).t()}};
  write_archive(archive, file.string(), "test");
  const auto read = read_archive(file.string(), "test");
  fs::remove(file);
  EXPECT_EQ(read.meta, archive.meta);
  ASSERT_EQ(read.tensors.size(), archive.tensors.size());
  for (size_t i = 0; i < read.tensors.size(); ++i) {
    EXPECT_EQ(read.tensors[i].first, archive.tensors[i].first);
    EXPECT_EQ(read.tensors[i].second.scalar_type(), archive.tensors[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(read.tensors[i].second, archive.tensors[i].second))
        << read.tensors[i].first;
  }
  EXPECT_EQ(read.find("none"), nullptr);
  ASSERT_NE(read.find("l"), nullptr);
  EXPECT_EQ(read.find("l")->sum().item<int64_t>(), 10);
  expect_error([&] { write_archive({{}, {{"c", torch::ones({2}, torch::kComplexFloat)}}}, "x", "w"); },
               {"w:", "tensor 'c'", "ComplexFloat"});
  expect_error([&] { write_archive({{}, {{"a", torch::ones(1)}, {"a", torch::ones(1)}}}, "x", "w"); },
               {"w:", "'a' is repeated"});
}

}  // namespace
}  // namespace diffeo::io
