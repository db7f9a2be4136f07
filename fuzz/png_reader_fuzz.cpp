// libFuzzer target: data::read_png on arbitrary bytes.  diffeo::Error is the
// expected answer to bad input; any other exception or a crash is a finding
// (libpng's errors come back through setjmp/longjmp, which this exercises).

#include "diffeo/core/error.h"
#include "diffeo/data/png.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = diffeo::fuzz::write_input(data, size, ".png");
  try {
    const auto image = diffeo::data::read_png(path);
    // What the reader promises of an image it accepts.
    if (image.dim() != 3 || image.scalar_type() != torch::kUInt8 ||
        (image.size(0) != 1 && image.size(0) != 3) || image.size(1) < 1 || image.size(2) < 1)
      std::abort();
  } catch (const diffeo::Error&) {
  }
  return 0;
}
