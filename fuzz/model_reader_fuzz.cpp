// libFuzzer target: io::load on arbitrary bytes, then log_prob of the loaded
// flow on a few finite points (a file that loads must give a usable flow).
// diffeo::Error is the expected answer to bad input; any other exception or a
// crash is a finding.
//
// A diffeo file carries a CRC-32 of its content, which random mutations
// almost never keep right: the checksum of an input with the file signature is
// recomputed before the load, so the fuzzer reaches the JSON and tensor
// parsing behind it (the layout of diffeo/io/archive.h: 8-byte magic, 4-byte
// version, the little-endian CRC-32 of every byte from offset 16).

#include <zlib.h>

#include <cstring>
#include <vector>

#include "diffeo/core/error.h"
#include "diffeo/io/archive.h"
#include "diffeo/io/save_load.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  constexpr size_t start = diffeo::io::kArchiveChecksumStart;
  if (size >= start && std::memcmp(data, diffeo::io::kArchiveMagic, 8) == 0) {
    const uint32_t crc = static_cast<uint32_t>(crc32_z(0, data + start, size - start));
    for (int b = 0; b < 4; ++b) bytes[start - 4 + b] = static_cast<uint8_t>(crc >> (8 * b));
  }
  const auto path = diffeo::fuzz::write_input(bytes.data(), bytes.size(), ".flow");
  try {
    auto flow = diffeo::io::load(path);
    torch::NoGradGuard no_grad;
    const auto options = torch::TensorOptions().dtype(flow->options().dtype());
    std::vector<int64_t> shape = {3};
    const auto& event = flow->event_shape();
    shape.insert(shape.end(), event.begin(), event.end());
    int64_t numel = 1;
    for (const auto extent : shape) numel *= extent;
    // Inside (0, 1) for flows on the unit cube (the logit preprocessing).
    const bool unit_cube = flow->spec().contains("logit");
    const auto x = torch::linspace(unit_cube ? 0.1 : -2.0, unit_cube ? 0.9 : 2.0, numel, options)
                       .reshape(shape);
    const int64_t context_features = flow->flow_options().context_features();
    const auto context = context_features > 0 ? torch::zeros({3, context_features}, options)
                                              : torch::Tensor();
    flow->log_prob(x, context);
  } catch (const diffeo::Error&) {
  }
  return 0;
}
