#pragma once
// The Fashion-MNIST image data set (Xiao, Rasul & Vollgraf 2017), read from its IDX files.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "diffeo/data/image_set.h"

namespace diffeo::data {

/// Where fashion_mnist looks by default: the environment variable
/// DIFFEO_FASHION_MNIST when it is set and not empty, otherwise
/// "/usr/share/datasets/fashion-mnist" (the Debian package dataset-fashion-mnist).
std::string default_fashion_mnist_directory();

/// Loads split "train" (60000 images) or "test" (10000) from `directory`,
/// which holds {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or the same
/// names without .gz): `images` uint8 [N, 1, 28, 28] (grey levels 0..255, 0
/// the background) and `labels` int64 [N] (class indices 0..9, see
/// fashion_mnist_classes).  Throws diffeo::Error for another split (listing the
/// valid ones), a missing directory or file (naming the package that provides
/// it), any read_idx error, images that are not uint8 [N, 28, 28], labels that
/// are not uint8 [N], image and label counts that differ, and labels outside 0..9.
ImageSet fashion_mnist(const std::string& split,
                       const std::string& directory = default_fashion_mnist_directory());

/// The 10 class names, indexed by label: T-shirt/top, Trouser, Pullover,
/// Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
const std::vector<std::string>& fashion_mnist_classes();

}  // namespace diffeo::data
