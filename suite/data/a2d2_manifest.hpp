// The manifest of an A2D2 scan: what exactly a pretraining run read (DESIGN.md "A cell is content-addressed").
// Like suite/data/manifest.hpp it hashes relative paths and byte sizes, not contents (28,637 pairs ≈ 100 GB), plus the
// split each pair went to, the skipped files with their reasons, the val_ratio and the sha256 of cams_lidars.json
// (small, and it decides the undistortion).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "suite/data/a2d2.hpp"

namespace clcp {

/// {"dataset": "a2d2", "camera": "front_center", "val_ratio", "cams_lidars": {"file", "sha256"},
///  "counts": {"scenes", "pairs", "train", "val", "skipped"},
///  "scenes": [{"scene", "pairs", "train", "val"}, …],
///  "pairs": [{"lidar": rel, "camera": rel, "lidar_bytes", "camera_bytes", "split": "train"|"val"}, …] (dataset order),
///  "skipped": [{"file": rel, "reason"}, …],
///  "hash": sha256_hex(canonical_json({pairs, skipped, val_ratio, cams_lidars.sha256}))}.
/// Paths are relative to the dataset root with '/' separators (cams_lidars.file may lie outside it: "../…").
/// Throws UserError naming a file that cannot be stat'ed.
nlohmann::json a2d2_manifest(const A2D2Dataset& dataset);

/// a2d2_manifest(dataset)["hash"].
std::string a2d2_manifest_hash(const A2D2Dataset& dataset);

}  // namespace clcp
