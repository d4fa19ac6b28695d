// The qualitative panel (what mmseg's visualiser and DG papers show first): a fixed sample of val images with the
// ground truth and each init's prediction. The images are chosen from their ids alone, before any result exists —
// in each group (Cityscapes: one group; ACDC: one per condition) the `per_group` records with the smallest
// sha256("clcp-panel/1:" + id) — so every init, seed and scale evaluated on the same split shows the same images,
// and no choice depends on how a model did. The evaluation pass that computes the metrics also writes, for those
// records only, the image, the ground truth and the prediction into the bundle (evidence/panel/), so the report
// draws the panel without a second inference.
#pragma once
#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "suite/data/dataset.hpp"

namespace clcp {

/// Panel images per group: 2 for a split without conditions (Cityscapes val), 1 per condition (ACDC val).
size_t panel_per_group(const Split& split);
/// Indices into split.records of the panel's images, sorted by (condition, id).
std::vector<size_t> panel_records(const Split& split, size_t per_group);

/// Files of one panel image inside a bundle: evidence/panel/<split>/<stem>.{image,label,pred}.png, stem = the id with
/// '/' → '__' and its extension dropped.
struct PanelFiles {
  std::filesystem::path image, label, pred;
};
PanelFiles panel_files(const std::filesystem::path& bundle_dir, const std::string& split_name, const std::string& id);

/// Longest side of the stored panel images, pixels (a panel thumbnail, not the evaluated resolution).
inline constexpr int kPanelMaxSide = 512;

/// Writes the three PNGs of one record atomically: image BGR uint8 (area-resized to ≤ kPanelMaxSide), label and
/// prediction uint8 trainIds (nearest-resized to the same size; 255 = ignore). Throws UserError naming the file.
void write_panel_files(const PanelFiles& f, const cv::Mat& image_bgr, const cv::Mat& label, const cv::Mat& pred);

}  // namespace clcp
