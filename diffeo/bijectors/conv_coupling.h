#pragma once
// Coupling over the channels of CHW images (Dinh et al. 2017, Glow).

#include <torch/torch.h>

#include <string>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// Coupling over channels for images [batch..., C, H, W] (event rank 3): the
/// first C/2 (rounded down) channels x_a pass through and feed the
/// conditioner; every value of the other channels x_b is transformed,
/// y_b = t(x_b; theta), y = [x_a, y_b].  The conditioner maps
/// (x_a [batch..., C/2, H, W], context) to [batch..., (C - C/2) * P, H, W]: the
/// P parameters of channel c are its channels c * P .. c * P + P - 1 (e.g.
/// nn::ConvNet(ConvNetOptions(C/2, (C - C/2) * P))).  A zero last layer makes a
/// new coupling the identity.  The default transform is the soft-clamped
/// AffineTransform.  Alternate it with a channel mixer (invertible_conv_1x1)
/// so every channel gets transformed.
class ConvCouplingImpl : public BijectorImpl {
 public:
  ConvCouplingImpl(int64_t channels, torch::nn::AnyModule conditioner,
                   Transform transform = affine_transform());

  const Transform& transform() const { return transform_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result couple(const torch::Tensor& input, const torch::Tensor& context, bool inverse,
                const std::string& arg);

  int64_t channels_;
  torch::nn::AnyModule conditioner_;
  Transform transform_;
};
TORCH_MODULE(ConvCoupling);

/// The image must be [batch..., channels, H, W]; diffeo::Error naming `where`
/// and `arg` otherwise.
void check_channels(const torch::Tensor& image, const std::string& arg, int64_t channels,
                    const std::string& where);

/// The coupling step of ConvCoupling and FactorOut: transforms every value of
/// `transformed` [batch..., n, H, W] by `transform` with the parameters
/// conditioner(identity, context) [batch..., n * P, H, W] (channel c's
/// parameters at channels c * P .. c * P + P - 1).  Returns the transformed
/// image and its log-det summed over [n, H, W]; diffeo::Error naming `where`
/// when the conditioner's output has another shape.
Result couple_channels(torch::nn::AnyModule& conditioner, const ElementwiseTransform& transform,
                       const torch::Tensor& identity, const torch::Tensor& transformed,
                       const torch::Tensor& context, bool inverse, const std::string& where);

}  // namespace diffeo
