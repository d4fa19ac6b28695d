// A folder of images as pretraining data for the image-only methods (`"dataset": "images"` in their protocol; e.g.
// SimCLR on frames a user names): every *.png, *.jpg and *.jpeg under ROOT (any depth, case-insensitive suffix),
// sorted by relative path with '/' separators (byte order). Split as A2D2's scenes (a2d2.hpp): per folder of n images,
// the last floor(n·val_ratio) in sorted order go to val (the temporally last, for numbered frames), the rest to train;
// n_val = 0 keeps the folder in train. The manifest hashes relative paths, byte sizes and the split (not contents).
// Errors (UserError, one line): ROOT missing or not a folder; no image in it ("… holds no *.png, *.jpg or *.jpeg image;
// point --data-root at a folder of images"); an empty train or val split.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace clcp {

struct ImageFolder {
  std::filesystem::path root;
  std::vector<std::filesystem::path> files;  ///< absolute, in sorted order
  std::vector<size_t> train, val;            ///< indices into files
  double val_ratio = 0;

  /// {"dataset": "images", "val_ratio", "counts", "files": [{"file": rel, "bytes", "split"}], "hash"}.
  nlohmann::json manifest() const;
  /// The split's files in order. UserError for a name other than train/val.
  std::vector<std::filesystem::path> split(const std::string& name) const;
};

/// Scans and splits (see above); val_ratio in [0, 0.5].
ImageFolder read_image_folder(const std::filesystem::path& root, double val_ratio);

}  // namespace clcp
