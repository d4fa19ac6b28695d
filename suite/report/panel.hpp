// The report's qualitative panel: for the images the evaluation kept (suite/eval/panel.hpp: chosen from their ids
// before any result existed, the same for every init and seed), the image, the ground truth and each group's
// prediction — from the group's lowest finished seed — in the Cityscapes palette (suite/data/labels.hpp kPalette,
// cityscapesScripts' trainId colours). Pixels whose ground truth is ignore_index 255 are black in the ground truth
// and in every prediction: they are not scored, and the reader sees where. HTML embeds each tile as a PNG data URI
// (offline); LaTeX and Markdown include one grid PNG per section written beside the report.
#pragma once
#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace clcp {

/// BGR colour of ignored (255) pixels: black, as cityscapesScripts colours "unlabeled".
inline const cv::Vec3b kIgnoreColourBgr{0, 0, 0};

/// trainIds (uint8 H×W, 0..18 or 255) → BGR uint8 in the Cityscapes palette. Where `ignore_mask` (uint8, same size,
/// optional) is 255 the pixel is kIgnoreColourBgr whatever its id. Throws UserError for another value than 0..18, 255.
cv::Mat colourise_train_ids(const cv::Mat& train_ids, const cv::Mat& ignore_mask = cv::Mat());

/// PNG bytes of `bgr`, base64 (RFC 4648, OpenSSL EVP_EncodeBlock), as "data:image/png;base64,…".
std::string png_data_uri(const cv::Mat& bgr);

/// One panel image: its files in a bundle and each group's prediction (empty path: that group has none).
struct PanelRow {
  std::string split, id, condition;     ///< split: evidence name, e.g. cityscapes_val
  std::filesystem::path image, label;   ///< from the first group that has them (the same image for every group)
  std::vector<std::filesystem::path> preds;  ///< one per column (Comparison::panel_columns)
};

/// The tiles of one row: image, colourised ground truth, then each prediction (grey where missing), all BGR.
std::vector<cv::Mat> panel_tiles(const PanelRow& row);
/// All rows as one grid image (rows × (2 + predictions) tiles, 4-px white gaps): what LaTeX and Markdown include.
cv::Mat panel_grid(const std::vector<PanelRow>& rows);

}  // namespace clcp
