#include "diffeo/data/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/idx.h"

namespace diffeo::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;
const char* const kWhere = "fashion_mnist";
const char* const kProvider =
    "the Debian package dataset-fashion-mnist provides it (scripts/install-deps installs it), "
    "or set DIFFEO_FASHION_MNIST to a directory that holds the four IDX files";

// `name` with .gz if present, else without; diffeo::Error when neither exists.
std::string find_file(const fs::path& directory, const std::string& name) {
  for (const auto& candidate : {name + ".gz", name}) {
    std::error_code ignored;
    if (fs::is_regular_file(directory / candidate, ignored))
      return (directory / candidate).string();
  }
  throw Error(std::string(kWhere) + ": '" + directory.string() + "' has no " + name + ".gz (nor " +
              name + "); " + kProvider);
}

void check_layout(const torch::Tensor& t, const std::string& path, torch::IntArrayRef expected,
                  const std::string& what) {
  bool ok = t.scalar_type() == torch::kByte && t.dim() == static_cast<int64_t>(expected.size());
  for (int64_t d = 1; ok && d < t.dim(); ++d) ok = t.size(d) == expected[d];
  if (!ok)
    throw Error(std::string(kWhere) + ": '" + path + "' holds " + c10::toString(t.scalar_type()) +
                " of shape " + shape_string(t.sizes()) + "; expected " + what);
}

}  // namespace

std::string default_fashion_mnist_directory() {
  const char* override_directory = std::getenv("DIFFEO_FASHION_MNIST");
  if (override_directory && *override_directory) return override_directory;
  return "/usr/share/datasets/fashion-mnist";
}

ImageSet fashion_mnist(const std::string& split, const std::string& directory) {
  if (split != "train" && split != "test")
    throw Error(std::string(kWhere) + ": argument 'split' must be one of train, test; got '" +
                split + "'");
  std::error_code ignored;
  if (!fs::is_directory(directory, ignored))
    throw Error(std::string(kWhere) + ": directory '" + directory + "' does not exist; " +
                kProvider);
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto images_path = find_file(directory, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_file(directory, prefix + "-labels-idx1-ubyte");
  auto images = read_idx(images_path);
  auto labels = read_idx(labels_path);
  check_layout(images, images_path, {0, kSide, kSide}, "uint8 images [N, 28, 28]");
  check_layout(labels, labels_path, {0}, "uint8 labels [N]");
  if (images.size(0) != labels.size(0))
    throw Error(std::string(kWhere) + ": split '" + split + "' has " +
                std::to_string(images.size(0)) + " images but " + std::to_string(labels.size(0)) +
                " labels; the counts must be equal");
  const auto bad = labels >= kClasses;  // uint8: never negative
  const int64_t bad_count = bad.sum().item<int64_t>();
  if (bad_count > 0) {
    const int64_t first = bad.nonzero()[0][0].item<int64_t>();
    throw Error(std::string(kWhere) + ": '" + labels_path + "' has " + std::to_string(bad_count) +
                " labels outside 0..9; the first, at index " + std::to_string(first) + ", is " +
                std::to_string(labels[first].item<int64_t>()));
  }
  return {images.unsqueeze(1), labels.to(torch::kLong)};
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> classes = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return classes;
}

}  // namespace diffeo::data
