// What every reader produces and everything downstream consumes: a sorted list of (image, label) records. Nothing
// downstream knows whether the files came from real Cityscapes/ACDC or from `clcp-bench data synth`.
#pragma once
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace clcp {

enum class LabelEncoding { kTrainIds, kLabelIds };

struct ImageRecord {
  std::filesystem::path image;  ///< absolute path of the RGB PNG
  std::filesystem::path label;  ///< absolute path of the label PNG (8-bit gray)
  LabelEncoding encoding = LabelEncoding::kTrainIds;
  std::string condition;        ///< "" for Cityscapes; "fog" | "night" | "rain" | "snow" for ACDC
  std::string id;               ///< image path relative to the dataset root; stable key for evidence and manifests
};

struct Split {
  std::string dataset;  ///< "cityscapes" | "acdc"
  std::string name;     ///< "train" | "val" | …
  std::filesystem::path root;
  std::vector<ImageRecord> records;  ///< sorted by image path (as mmseg BaseSegDataset)
};

/// A decoded sample: image BGR uint8 H×W×3 (as cv::imread), label uint8 H×W trainIds (0..18, 255).
struct LoadedSample {
  cv::Mat image;
  cv::Mat label;
};

}  // namespace clcp
