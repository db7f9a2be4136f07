#pragma once
// A user's own images as a data set: a folder of PNG files (classes from its
// sub-folders), an NPY image array, and class labels from a CSV file.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "diffeo/data/image_set.h"

namespace diffeo::data {

/// The images of a folder, as read_image_folder reads them: `images` uint8
/// [N, C, H, W] and, when the folder has class sub-folders, `labels` int64 [N]
/// (undefined otherwise).
struct ImageFolder : ImageSet {
  /// The class sub-folders' names, sorted; label k is classes[k].  Empty for
  /// a folder without sub-folders.
  std::vector<std::string> classes;
  /// Each image's path relative to the folder ("cat/001.png", or "001.png"
  /// in a folder without sub-folders), in the order of `images`.
  std::vector<std::string> files;
  /// The entries passed over because they are not PNG files (paths relative
  /// to the folder, sorted), so a caller can say what was left out.
  std::vector<std::string> ignored;
};

/// Reads every PNG file (extension .png, any case) of the folder `directory`
/// with read_png into one uint8 [N, C, H, W] tensor.  Two layouts:
///  - PNG files directly in the folder: an unlabelled set, files in sorted
///    (byte-wise) name order;
///  - class sub-folders, each holding PNG files ("cat/001.png", "dog/7.png"):
///    label k for the k-th sub-folder in sorted name order, images ordered by
///    class, then by name.  Sub-folders of a class folder are not read.
/// Entries whose names start with '.' are skipped; other files that are not
/// PNG (a README, a labels.csv) are passed over and listed in `ignored`.
/// Every image must have the first one's size and channel count (C = 1 grey,
/// 3 RGB; see read_png for palettes, 16 bits and alpha).  Throws
/// diffeo::Error naming the folder for a missing folder or a file in its
/// place, an unreadable entry, a folder holding both PNG files and
/// sub-folders, no PNG files (or a class folder without any), any read_png
/// error (naming the file), and the first image whose size or channel count
/// differs (naming it, the first image and both C x H x W).
ImageFolder read_image_folder(const std::string& directory);

/// Reads an NPY file of images into uint8 [N, C, H, W]: the array is
/// [N, H, W] (grey, C = 1) or [N, C, H, W] with C = 1 or 3, in C order, of
///  - uint8 ('|u1'): pixel values 0..255, returned as they are, or
///  - little-endian float32 or float64 ('<f4', '<f8'): values in [0, 1],
///    quantised to round(255 x) (the image flows dequantise 8-bit data).
/// Throws diffeo::Error naming the file for any read_npy-style header or size
/// error, another dtype, rank or channel count (a channels-last
/// [N, H, W, C] array is refused with the transpose that fixes it), an empty
/// array, and float values outside [0, 1] or NaN (their count and the first
/// one's index and value).
torch::Tensor read_image_array(const std::string& path);

/// Class labels read from a CSV file by read_labels_csv.
struct ImageLabels {
  torch::Tensor labels;              ///< int64 [N], class indices 0..K-1
  std::vector<std::string> classes;  ///< K class names; label k is classes[k]
};

/// Reads one label per image from the CSV file `path` for `n` images (e.g.
/// an NPY image array's rows): one column, the i-th label on the i-th
/// non-blank line.  A label is a class index (0, 1, ..., at most 65535; then
/// classes are "0".."max") or, when any label is not such an integer, a class
/// name (classes are the distinct names, sorted).  An optional first line
/// whose label cell is "label", "class" or "target" (any case) is a header
/// and skipped.  Cells are separated by commas and trimmed; quoting is not
/// supported.  Throws diffeo::Error naming the file for a missing file, no
/// labels, more than one column, an empty label (naming the line), a class
/// index over 65535, and a count of labels other than `n`.
ImageLabels read_labels_csv(const std::string& path, int64_t n);

/// Reads the labels of the images `files` (as in ImageFolder::files, paths
/// relative to the folder) from the CSV file `path`, returned in the order of
/// `files`: two columns, "file name,label" (rows in any order, each image
/// exactly once), or one column of labels in the order of `files`.  Labels,
/// header and cells as in read_labels_csv(path, n).  Throws diffeo::Error
/// naming the file and line for a name that is not one of `files`, a name
/// given twice, an image without a label (the first one), and the errors of
/// read_labels_csv(path, n).
ImageLabels read_labels_csv(const std::string& path, const std::vector<std::string>& files);

}  // namespace diffeo::data
