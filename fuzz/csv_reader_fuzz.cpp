// libFuzzer target: data::read_csv on arbitrary bytes.  diffeo::Error is the
// expected answer to bad input; any other exception or a crash is a finding.

#include "diffeo/core/error.h"
#include "diffeo/data/table.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = diffeo::fuzz::write_input(data, size, ".csv");
  try {
    const auto table = diffeo::data::read_csv(path);
    // What the reader promises of a table it accepts.
    if (table.dim() != 2 || table.numel() == 0 || table.scalar_type() != torch::kFloat64 ||
        !torch::isfinite(table).all().item<bool>())
      std::abort();
  } catch (const diffeo::Error&) {
  }
  return 0;
}
