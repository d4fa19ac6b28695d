// ACDC reader (official layout, mmseg_reference.md §4; clcp_reference.md §3.3, mmseg ACDCDataset suffixes).
//   <root>/rgb_anon/<cond>/<split>/<sequence>/<stem>_rgb_anon.png
//   <root>/gt/<cond>/<split>/<sequence>/<stem>_gt_labelTrainIds.png   (preferred)
//   <root>/gt/<cond>/<split>/<sequence>/<stem>_gt_labelIds.png        (fallback, record.encoding = kLabelIds)
// Reference images live in <split>_ref/ folders with the suffix _rgb_ref_anon.png and are never matched.
// The thesis evaluates the four conditions' val splits pooled as one set (406 images).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "suite/data/dataset.hpp"

namespace clcp {

/// Reads `split` of each condition in `conditions` from the ACDC folder `root` (the folder holding rgb_anon/ and gt/).
/// Returns Split{dataset "acdc", name split, root, records of all conditions sorted by image path, each tagged with
/// its condition; id = image path relative to root}.
/// Throws UserError (one line) when: root is missing; rgb_anon/<cond>/<split> or gt/<cond>/<split> is missing for a
/// requested condition; the split holds no *_rgb_anon.png images; an image has no label; a label has no image.
Split read_acdc(const std::filesystem::path& root, const std::string& split,
                const std::vector<std::string>& conditions = {"fog", "night", "rain", "snow"});

}  // namespace clcp
