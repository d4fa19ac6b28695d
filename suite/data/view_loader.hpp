// Batches of two augmented views of images, for the image-only pretraining methods (SimCLR; the Siamese family builds
// on it): the frames of a FrameSplit — the A2D2 front-centre camera frames of a PairSplit, undistorted as the pair
// pipeline does (a2d2_sample.hpp), or the images of a folder (image_folder.hpp) as they are — each turned into two
// views by two_view.hpp and normalised. Deterministic as PairLoader (pair_loader.hpp):
//  - epoch e's order: train = Fisher–Yates from Stream(seed, "frames/order", e); val = 0 … n − 1;
//  - batch (e, i) holds positions [i·B, (i+1)·B) of that order (batches_per_epoch = n / B, the rest dropped);
//  - the views of position q: view a, then view b (then the `extra_views` of an M-view loader, in order), drawn from Stream(seed, "frames/views", e, q) for train and from
//    the seed-independent Stream(kValViewSeed, "frames/val-views", 0, q) for val (fixed val views, comparable across
//    seeds and epochs).
// Rows: PairRows{first, count} returns only those rows of every batch (data-parallel rank r of W: first = r·B/W).
// Samples of a batch are decoded in parallel with LibTorch's intra-op pool; each depends only on its position.
#pragma once
#include <torch/torch.h>

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "suite/data/a2d2.hpp"
#include "suite/data/pair_loader.hpp"
#include "suite/data/two_view.hpp"

namespace clcp {

/// The fixed seed of the val views (any constant independent of the run's seed).
inline constexpr uint64_t kValViewSeed = 0x76616c7669657773ull;  // "valviews"

/// The images of one split: read as RGB, undistorted with `camera` when it is set.
struct FrameSplit {
  std::string name;                          ///< "train" | "val" (for errors)
  std::filesystem::path root;
  std::vector<std::filesystem::path> frames;
  std::optional<A2D2Camera> camera;
};
/// The camera frames of an A2D2 split (undistorted with its calibration).
FrameSplit frames_of(const PairSplit& split);

/// An image file as RGB uint8 [H, W, 3] (OpenCV decode); UserError naming the file when it does not decode.
cv::Mat read_rgb_image(const std::filesystem::path& file);

struct ViewBatch {
  torch::Tensor view_a, view_b;  ///< [b, 3, S, S] float32, normalised RGB
  std::vector<torch::Tensor> extra_views;  ///< views 3 … M of an M-view loader (FastSiam, DiSiam+), same layout
  std::vector<size_t> indices;   ///< frame index (in split.frames) of each row
};

class ViewLoader {
 public:
  /// Throws UserError when the split holds fewer frames than one batch ("… holds N frames, fewer than one batch of
  /// B …"), std::invalid_argument for bad counts.
  /// views_per_frame M >= 2: views a and b are the same bytes for every M (the extra views are drawn after them).
  ViewLoader(FrameSplit split, ViewOptions views, std::array<float, 3> mean_rgb, std::array<float, 3> std_rgb,
             PairMode mode, uint64_t seed, int64_t batch_size, PairRows rows = {}, int views_per_frame = 2);
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  /// Batch i of epoch `epoch` (its rows). UserError naming the file for a PNG that does not decode.
  ViewBatch batch(uint64_t epoch, int64_t i) const;

 private:
  FrameSplit split_;
  std::optional<Undistorter> undistorter_;
  ViewOptions views_;
  std::array<float, 3> mean_, std_;
  PairMode mode_;
  uint64_t seed_;
  int64_t batch_size_, first_row_, rows_, batches_per_epoch_;
  int views_per_frame_;
};

}  // namespace clcp
