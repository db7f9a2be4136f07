#pragma once
// TempDirTest: a GoogleTest fixture that gives each test a fresh folder of
// files, removed afterwards, for the tests of file readers and writers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace diffeo::testing {

/// Each test gets the empty folder `dir_` (in the system's temporary folder,
/// named after `prefix` and the process id, so parallel test processes do not
/// meet), removed with everything in it after the test.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix = "diffeo_test") : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (prefix_ + "." + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// The path of `name` (which may hold sub-folders: "set/cat/1.png") in the folder.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  /// Writes `bytes` as the file `name`, making its parent folders; returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    std::filesystem::create_directories((dir_ / name).parent_path());
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  /// The bytes of the file `name` (empty when it is missing).
  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;

 private:
  std::string prefix_;
};

}  // namespace diffeo::testing
