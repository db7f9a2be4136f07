// libFuzzer target: data::read_idx on arbitrary bytes, plain or gzip (the
// file is named .gz when the input starts with gzip's magic).  diffeo::Error
// is the expected answer to bad input; any other exception or a crash is a
// finding.

#include "diffeo/core/error.h"
#include "diffeo/data/idx.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const auto path = diffeo::fuzz::write_input(data, size, gzip ? ".gz" : ".idx");
  try {
    const auto tensor = diffeo::data::read_idx(path);
    if (tensor.dim() < 1 || tensor.dim() > 8 || tensor.numel() > diffeo::data::kMaxIdxElements)
      std::abort();
    tensor.sum();  // touches every element
  } catch (const diffeo::Error&) {
  }
  return 0;
}
