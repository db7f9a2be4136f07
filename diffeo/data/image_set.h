#pragma once
// A set of 8-bit images with optional class labels, as the image readers return it.

#include <torch/torch.h>

namespace diffeo::data {

/// A labelled image set: `images` uint8 [N, C, H, W] (pixel values 0..255 in
/// CHW layout, row 0 at the top; C = 1 grey, 3 RGB) and `labels` int64 [N]
/// (class indices 0..K-1), both on the CPU.  `labels` is undefined for a set
/// without labels.
struct ImageSet {
  torch::Tensor images;
  torch::Tensor labels;
};

}  // namespace diffeo::data
