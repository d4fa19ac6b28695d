// Batches of A2D2 camera frames with their semantic labels, for the supervised positive control: each frame is
// undistorted as the pair pipeline does (a2d2_sample.hpp; its label with the same maps, nearest, 255 outside the
// recorded image), its label decoded to Cityscapes trainIds (suite/data/a2d2_labels.hpp), then
//  - train: RandomResizedCrop(S, crop_scale, crop_ratio) and a horizontal flip with flip_p, drawn as two_view.hpp
//    draws them (torchvision's get_params), the image resized as two_view does, the label with INTER_NEAREST;
//  - val: the whole frame resized to S×S (the image INTER_AREA, the label INTER_NEAREST), no randomness.
// Deterministic like ViewLoader (view_loader.hpp): epoch e's train order is Fisher–Yates from
// Stream(seed, "supervised/order", e), position q's crop and flip come from Stream(seed, "supervised/crop", e, q); val
// is 0 … n − 1. Batch (e, i) holds positions [i·B, (i+1)·B), the rest of the split is dropped; PairRows selects a
// rank's rows. Samples of a batch are decoded in parallel with LibTorch's intra-op pool.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "suite/data/a2d2.hpp"
#include "suite/data/a2d2_labels.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "suite/data/pair_loader.hpp"

namespace clcp {

struct LabelledSplit {
  std::string name;  ///< "train" | "val"
  std::filesystem::path root;
  std::vector<std::filesystem::path> frames, labels;  ///< camera PNG i and its label PNG
  A2D2Camera camera;
};
/// The frames of an A2D2 split with their label paths. UserError naming the first label PNG that does not exist
/// (checked up front, so a run never stops mid-epoch for a missing label).
LabelledSplit labelled_split(const PairSplit& split);

struct LabelledViewOptions {
  int out_size = 224;
  std::array<double, 2> crop_scale{0.08, 1.0}, crop_ratio{3.0 / 4.0, 4.0 / 3.0};
  double flip_p = 0.5;
};

struct LabelledBatch {
  torch::Tensor images;  ///< [b, 3, S, S] float32, normalised RGB
  torch::Tensor labels;  ///< [b, S, S] int64, trainIds 0–18 or 255
  std::vector<size_t> indices;
};

class LabelledFrameLoader {
 public:
  /// UserError when the split holds fewer frames than one batch; std::invalid_argument for bad counts.
  LabelledFrameLoader(LabelledSplit split, std::shared_ptr<const A2D2LabelDecoder> decoder, LabelledViewOptions views,
                      std::array<float, 3> mean_rgb, std::array<float, 3> std_rgb, PairMode mode, uint64_t seed,
                      int64_t batch_size, PairRows rows = {});
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  /// Batch i of epoch `epoch` (this loader's rows). UserError naming the file for a PNG that does not decode or a
  /// label colour class_list.json does not list.
  LabelledBatch batch(uint64_t epoch, int64_t i) const;

 private:
  LabelledSplit split_;
  std::shared_ptr<const A2D2LabelDecoder> decoder_;
  Undistorter undistorter_;
  LabelledViewOptions views_;
  std::array<float, 3> mean_, std_;
  PairMode mode_;
  uint64_t seed_;
  int64_t batch_size_, first_row_, rows_, batches_per_epoch_;
};

}  // namespace clcp
