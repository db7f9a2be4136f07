#pragma once

#include <initializer_list>
#include <vector>

#include "diffeo/bijectors/bijector.h"

namespace diffeo {

/// Composition of bijectors.  As in distrax and TFP, Chain({f, g, h}) is the
/// function composition f o g o h: forward applies the LAST listed bijector
/// first (h, then g, then f), and inverse undoes them in the opposite order.
/// The chain's event rank is the largest of its members'; the log-det of a
/// member with a smaller rank is summed over the extra event dimensions, so
/// elementwise bijectors mix freely with vector ones.  The context is passed to
/// every member.
class ChainImpl : public BijectorImpl {
 public:
  explicit ChainImpl(std::vector<Bijector> bijectors);

  const std::vector<Bijector>& bijectors() const { return bijectors_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result run(const torch::Tensor& input, const torch::Tensor& context, bool forward);

  std::vector<Bijector> bijectors_;
};

/// Holder of ChainImpl (what TORCH_MODULE would give), constructible from a
/// braced list of mixed bijectors: Chain({Rotation2D(t), Shift(b), Scale(a)}).
class Chain : public torch::nn::ModuleHolder<ChainImpl> {
 public:
  using torch::nn::ModuleHolder<ChainImpl>::ModuleHolder;
  using Impl = ChainImpl;
  Chain(std::vector<Bijector> bijectors)
      : ModuleHolder(std::make_shared<ChainImpl>(std::move(bijectors))) {}
  // A braced list picks this one before the copy constructor (which g++ 12
  // would otherwise also reach, through ModuleHolder's variadic constructor).
  Chain(std::initializer_list<Bijector> bijectors) : Chain(std::vector<Bijector>(bijectors)) {}
};

}  // namespace diffeo
