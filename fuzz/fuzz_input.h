#pragma once
// Shared by the fuzz targets (fuzz/*_reader_fuzz.cpp): the readers under test
// take a path, so each input is written to a file first.

#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace diffeo::fuzz {

/// Writes the input to one file per process and extension (".csv", ".npy",
/// ".idx", ".gz", ".flow") and returns its path.  The file lies in $TMPDIR when
/// that is set, else in /dev/shm (memory: no disk traffic per input), else in
/// /tmp; it is removed when the process exits normally.  The first call also
/// sets LibTorch to one thread: a fuzzer runs on one core.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& extension) {
  struct TempFile {
    std::string path;
    ~TempFile() {
      if (!path.empty()) std::remove(path.c_str());
    }
  };
  static TempFile files[8];  // one per extension this process used
  static const std::string dir = [] {
    torch::set_num_threads(1);
    if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) return std::string(tmp);
    return std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  }();
  const std::string path = dir + "/diffeo-fuzz-" + std::to_string(getpid()) + extension;
  for (auto& file : files) {
    if (file.path == path) break;
    if (file.path.empty()) {
      file.path = path;
      break;
    }
  }
  FILE* out = std::fopen(path.c_str(), "wb");
  // Not a finding in the reader: the harness cannot run, so stop loudly.
  if (!out || (size > 0 && std::fwrite(data, 1, size, out) != size) || std::fclose(out) != 0) {
    std::perror(("fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

}  // namespace diffeo::fuzz
