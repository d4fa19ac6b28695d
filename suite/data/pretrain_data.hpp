// What a pretraining cell reads: the A2D2 camera–lidar pairs (camera–lidar methods, and the image-only methods on
// their camera frames) or a folder of images (image-only methods, protocol "dataset": "images").
#pragma once
#include <nlohmann/json.hpp>
#include <optional>

#include "suite/data/a2d2.hpp"
#include "suite/data/image_folder.hpp"

namespace clcp {

struct PretrainData {
  std::optional<A2D2Dataset> a2d2;
  std::optional<ImageFolder> images;
  /// The cell spec's "datasets": {"a2d2": manifest hash} or {"images": manifest hash}.
  nlohmann::json manifest_hashes() const;
};

}  // namespace clcp
