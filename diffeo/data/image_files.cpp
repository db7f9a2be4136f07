#include "diffeo/data/image_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <string_view>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/read_file.h"
#include "diffeo/data/csv_rows.h"
#include "diffeo/data/npy.h"
#include "diffeo/data/png.h"
#include "diffeo/data/table.h"

namespace diffeo::data {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- folders

// The entries of one folder, sorted by name: its PNG files, its sub-folders
// and what is neither.  Hidden entries (".name") are skipped.
struct Listing {
  std::vector<std::string> png_files, folders, others;
};

Listing list_folder(const fs::path& folder, const std::string& where) {
  Listing listing;
  std::error_code error;
  fs::directory_iterator it(folder, error), end;
  for (; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code kind_error;
    if (it->is_directory(kind_error)) {
      listing.folders.push_back(name);
    } else if (has_extension(name, ".png") && !kind_error) {
      listing.png_files.push_back(name);
    } else {
      listing.others.push_back(name);
    }
  }
  if (error)
    throw Error(where + ": cannot list " + quoted(folder.string()) + ": " + error.message());
  for (auto* names : {&listing.png_files, &listing.folders, &listing.others})
    std::sort(names->begin(), names->end());
  return listing;
}

// "1 x 28 x 28 (grey)" for an image [C, H, W].
std::string describe(torch::IntArrayRef shape) {
  const char* kind = shape[0] == 1 ? "grey" : shape[0] == 3 ? "RGB" : "?";
  return std::to_string(shape[0]) + " x " + std::to_string(shape[1]) + " x " +
         std::to_string(shape[2]) + " (" + kind + ", C x H x W)";
}

// ---------------------------------------------------------------- NPY arrays

// "[2, 0, 1, 4]": the numpy index of flat element `index` of an array `shape`.
std::string numpy_index(int64_t index, torch::IntArrayRef shape) {
  std::vector<int64_t> at(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    at[d] = index % shape[d];
    index /= shape[d];
  }
  return shape_string(at);
}

// ---------------------------------------------------------------- labels

struct LabelRow {
  int64_t line;
  std::string name;  // the file name cell; empty in a one-column file
  std::string label;
};

bool is_header_cell(std::string_view cell) {
  std::string lower(cell);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "label" || lower == "class" || lower == "target";
}

// The rows of a label file of one or two columns (`max_columns`).
std::vector<LabelRow> read_label_rows(const std::string& path, size_t max_columns,
                                      const std::string& where, size_t& columns) {
  const std::string text = read_file(path, "read_labels_csv");
  std::vector<LabelRow> rows;
  columns = 0;
  int64_t first_line = 0;
  for_each_csv_row(text, [&](int64_t line, const std::vector<std::string_view>& cells) {
    if (columns == 0) {
      columns = cells.size();
      first_line = line;
      if (columns > max_columns)
        throw Error(where + " line " + std::to_string(line) + " has " + std::to_string(columns) +
                    " cells; expected " +
                    (max_columns == 1 ? std::string("one label per line")
                                      : std::string("'file name,label' or one label per line")));
      if (is_header_cell(cells.back())) return;
    }
    if (cells.size() != columns)
      throw Error(where + " line " + std::to_string(line) + " has " + std::to_string(cells.size()) +
                  " cells, expected " + std::to_string(columns) + " (as on line " +
                  std::to_string(first_line) + ")");
    if (cells.back().empty())
      throw Error(where + " line " + std::to_string(line) + " has an empty label");
    rows.push_back(
        {line, columns == 2 ? std::string(cells[0]) : std::string(), std::string(cells.back())});
  });
  if (rows.empty()) throw Error(where + " holds no labels; expected one label per image");
  return rows;
}

constexpr int64_t kMaxClassIndex = 65535;

// Class indices when every label is a non-negative integer, else names.
ImageLabels labels_from_cells(const std::vector<const LabelRow*>& rows, const std::string& where) {
  ImageLabels result;
  std::vector<int64_t> indices(rows.size());
  bool integers = true;
  for (size_t i = 0; i < rows.size() && integers; ++i) {
    const std::string& cell = rows[i]->label;
    const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), indices[i]);
    integers = error == std::errc() && end == cell.data() + cell.size() && indices[i] >= 0;
  }
  if (integers) {
    const auto top = std::max_element(indices.begin(), indices.end()) - indices.begin();
    if (indices[top] > kMaxClassIndex)
      throw Error(where + " line " + std::to_string(rows[top]->line) + " has class index " +
                  std::to_string(indices[top]) + "; class indices go from 0 to at most " +
                  std::to_string(kMaxClassIndex) + " (or give class names)");
    for (int64_t k = 0; k <= indices[top]; ++k) result.classes.push_back(std::to_string(k));
  } else {
    std::map<std::string, int64_t> index;
    for (const auto* row : rows) index.emplace(row->label, 0);
    for (auto& [name, k] : index) {
      k = static_cast<int64_t>(result.classes.size());
      result.classes.push_back(name);
    }
    for (size_t i = 0; i < rows.size(); ++i) indices[i] = index.at(rows[i]->label);
  }
  result.labels = torch::tensor(indices, torch::kInt64);
  return result;
}

std::string count_message(size_t labels, size_t images, const std::string& of) {
  return " holds " + std::to_string(labels) + " labels for " + std::to_string(images) + " " + of +
         "; expected one label per image";
}

}  // namespace

ImageFolder read_image_folder(const std::string& directory) {
  const std::string where = "read_image_folder: " + quoted(directory);
  std::error_code error;
  const auto status = fs::status(directory, error);
  if (!fs::exists(status)) throw Error(where + " does not exist; expected a folder of PNG files");
  if (!fs::is_directory(status))
    throw Error(where + " is not a folder; expected a folder of PNG files");

  ImageFolder folder;
  const Listing top = list_folder(directory, where);
  for (const auto& name : top.others) folder.ignored.push_back(name);
  if (!top.folders.empty()) {
    if (!top.png_files.empty())
      throw Error(where + " holds both PNG files ('" + top.png_files.front() +
                  "') and sub-folders ('" + top.folders.front() +
                  "'); expected either PNG files or one sub-folder of PNG files per class");
    std::vector<int64_t> labels;
    for (const auto& name : top.folders) {
      const Listing inside = list_folder(fs::path(directory) / name, where);
      if (inside.png_files.empty())
        throw Error(where + ": its class folder '" + name +
                    "' holds no .png files; expected PNG images of the class '" + name + "'");
      for (const auto& file : inside.png_files) {
        folder.files.push_back(name + "/" + file);
        labels.push_back(static_cast<int64_t>(folder.classes.size()));
      }
      for (const auto& other : inside.others) folder.ignored.push_back(name + "/" + other);
      for (const auto& other : inside.folders) folder.ignored.push_back(name + "/" + other);
      folder.classes.push_back(name);
    }
    folder.labels = torch::tensor(labels, torch::kInt64);
  } else {
    if (top.png_files.empty())
      throw Error(where + " holds no .png files" +
                  (top.others.empty()
                       ? std::string()
                       : " (" + std::to_string(top.others.size()) + " other files, e.g. '" +
                             top.others.front() + "'; only PNG images are read)") +
                  "; expected PNG files or one sub-folder of PNG files per class");
    folder.files = top.png_files;
  }
  std::sort(folder.ignored.begin(), folder.ignored.end());

  const int64_t n = static_cast<int64_t>(folder.files.size());
  for (int64_t i = 0; i < n; ++i) {
    const auto image = read_png((fs::path(directory) / folder.files[i]).string());
    if (i == 0) {
      auto shape = image.sizes().vec();
      shape.insert(shape.begin(), n);
      folder.images = torch::empty(shape, torch::kUInt8);
    } else if (image.sizes() != folder.images.sizes().slice(1)) {
      throw Error(where + ": '" + folder.files[i] + "' is " + describe(image.sizes()) + " but '" +
                  folder.files[0] + "' is " + describe(folder.images.sizes().slice(1)) +
                  "; every image must have one size and channel count");
    }
    folder.images[i].copy_(image);
  }
  return folder;
}

torch::Tensor read_image_array(const std::string& path) {
  const std::string where = "read_image_array: " + quoted(path);
  const std::string bytes = read_file(path, "read_image_array");
  const NpyHeader header = parse_npy_header(bytes, where);
  torch::Dtype dtype;
  std::string dtype_name;
  if (header.descr == "'|u1'" || header.descr == "'<u1'" || header.descr == "'>u1'") {
    dtype = torch::kUInt8, dtype_name = "uint8";
  } else if (header.descr == "'<f4'") {
    dtype = torch::kFloat32, dtype_name = "float32";
  } else if (header.descr == "'<f8'") {
    dtype = torch::kFloat64, dtype_name = "float64";
  } else {
    throw Error(where + " has dtype " + header.descr +
                "; expected uint8 ('|u1', values 0..255) or little-endian float32 or float64 "
                "('<f4', '<f8', values in [0, 1])");
  }
  const auto& shape = header.shape;
  const std::string expected =
      "; expected images [N, H, W] (grey) or [N, C, H, W] with C = 1 (grey) or 3 (RGB)";
  if (shape.size() != 3 && shape.size() != 4)
    throw Error(where + " holds an array of shape " + header.shape_text + expected);
  if (shape.size() == 4 && shape[1] != 1 && shape[1] != 3) {
    const bool channels_last = shape[3] == 1 || shape[3] == 3;
    throw Error(where + " holds an array of shape " + header.shape_text + expected +
                (channels_last ? std::string(" (it looks channels-last, [N, H, W, C]: save "
                                             "a.transpose(0, 3, 1, 2) instead)")
                               : std::string()));
  }
  if (std::find(shape.begin(), shape.end(), 0) != shape.end())
    throw Error(where + " holds an empty array " + header.shape_text);
  const size_t element_size = c10::elementSize(dtype);
  const char* data = npy_data(bytes, header, element_size, dtype_name, where);
  auto array = torch::empty(shape, dtype);
  std::memcpy(array.data_ptr(), data, array.numel() * element_size);
  if (array.dim() == 3) array = array.unsqueeze(1);
  if (dtype == torch::kUInt8) return array;

  const auto outside = (array.ge(0) & array.le(1)).logical_not();  // NaN included
  const int64_t count = outside.sum().item<int64_t>();
  if (count > 0) {
    const int64_t first = outside.flatten().nonzero()[0][0].item<int64_t>();
    throw Error(where + " has " + std::to_string(count) +
                " values outside [0, 1] (or NaN); the first at index " +
                numpy_index(first, torch::IntArrayRef(shape)) + " is " +
                number_string(array.flatten()[first].item<double>()) +
                "; float images must lie in [0, 1] (uint8 ones in 0..255)");
  }
  return array.to(torch::kFloat64).mul(255).round().to(torch::kUInt8);
}

ImageLabels read_labels_csv(const std::string& path, int64_t n) {
  const std::string where = "read_labels_csv: " + quoted(path);
  if (n < 1) throw Error(where + ": argument 'n' must be >= 1, got " + std::to_string(n));
  size_t columns;
  const auto rows = read_label_rows(path, 1, where, columns);
  if (static_cast<int64_t>(rows.size()) != n)
    throw Error(where + count_message(rows.size(), n, "images"));
  std::vector<const LabelRow*> ordered;
  for (const auto& row : rows) ordered.push_back(&row);
  return labels_from_cells(ordered, where);
}

ImageLabels read_labels_csv(const std::string& path, const std::vector<std::string>& files) {
  const std::string where = "read_labels_csv: " + quoted(path);
  if (files.empty()) throw Error(where + ": argument 'files' is empty; expected image names");
  size_t columns;
  const auto rows = read_label_rows(path, 2, where, columns);
  std::vector<const LabelRow*> ordered(files.size(), nullptr);
  if (columns == 1) {
    if (rows.size() != files.size())
      throw Error(where + count_message(rows.size(), files.size(), "image files"));
    for (size_t i = 0; i < rows.size(); ++i) ordered[i] = &rows[i];
    return labels_from_cells(ordered, where);
  }
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < files.size(); ++i) position.emplace(files[i], i);
  for (const auto& row : rows) {
    const auto found = position.find(row.name);
    if (found == position.end())
      throw Error(where + " line " + std::to_string(row.line) + ": '" + row.name +
                  "' is not one of the " + std::to_string(files.size()) +
                  " images (names are relative to the image folder, e.g. '" + files.front() + "')");
    if (ordered[found->second] != nullptr)
      throw Error(where + " line " + std::to_string(row.line) + ": '" + row.name +
                  "' has a label already (line " + std::to_string(ordered[found->second]->line) +
                  ")");
    ordered[found->second] = &row;
  }
  const auto missing = std::find(ordered.begin(), ordered.end(), nullptr);
  if (missing != ordered.end()) {
    const auto more = std::count(ordered.begin(), ordered.end(), nullptr) - 1;
    throw Error(where + " has no label for '" + files[missing - ordered.begin()] + "'" +
                (more > 0 ? " (nor for " + std::to_string(more) + " more images)" : std::string()) +
                "; expected one line 'file name,label' per image");
  }
  return labels_from_cells(ordered, where);
}

}  // namespace diffeo::data
