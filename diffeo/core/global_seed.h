#pragma once
// Seeding LibTorch's global generator for one scope.

#include <torch/torch.h>

#include <cstdint>

namespace diffeo {

/// Seeds LibTorch's default CPU generator with `seed` for the lifetime of the
/// object and restores its previous state afterwards (also when an exception
/// leaves the scope).  Builders use it so that a spec's seed alone fixes the
/// initial weights of modules that draw from the global generator, without
/// changing the caller's random stream.
class GlobalSeed {
 public:
  explicit GlobalSeed(uint64_t seed)
      : generator_(at::detail::getDefaultCPUGenerator()), saved_(generator_.get_state()) {
    generator_.set_current_seed(seed);
  }
  ~GlobalSeed() { generator_.set_state(saved_); }
  GlobalSeed(const GlobalSeed&) = delete;
  GlobalSeed& operator=(const GlobalSeed&) = delete;

 private:
  at::Generator generator_;
  torch::Tensor saved_;
};

}  // namespace diffeo
