// Evaluate a model on a split: per image load → predict_labels → image_evidence, in split order. Only the counts
// are kept (memory is bounded by one image's logits), as mmseg's test loop with batch 1 (clcp_reference.md §3.2–3.3).
#pragma once
#include <array>
#include <cstddef>
#include <functional>
#include <vector>

#include "suite/data/dataset.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/eval/predict.hpp"
#include "suite/eval/slide.hpp"

namespace clcp {

struct EvalOptions {
  int scale_w = 2048;  ///< test Resize scale (keep_ratio), pixels: Cityscapes 2048×1024 unchanged, ACDC → 1820×1024
  int scale_h = 1024;
  SlideOptions slide;  ///< crop 224, stride 168, 8 windows per model call
  std::array<float, 3> mean = kImageNetMeanRGB;  ///< RGB, 0..255 units
  std::array<float, 3> std = kImageNetStdRGB;
  torch::Device device = torch::kCPU;  ///< where the image tensor (and hence the windows) live
};

/// Called after each image: (images done, images total).
using EvalProgressFn = std::function<void(size_t done, size_t total)>;
/// Loads split.records[i] (BGR uint8 image, uint8 trainId label at the image's original size).
using SampleLoader = std::function<LoadedSample(size_t index)>;

/// Called after each image's prediction: (record index, the sample, prediction [H,W] uint8 trainIds on the CPU).
/// Used to keep the qualitative panel's few label maps (panel.hpp) from the evaluation pass itself.
using PredictionFn = std::function<void(size_t index, const LoadedSample& sample, const torch::Tensor& pred)>;

/// Evidence for every record of `split`, in split order, with id/dataset/condition from the record and split.
/// Throws UserError naming the label file if a label's size differs from its image's or it is not 8-bit gray.
std::vector<ImageEvidence> evaluate_split(const LogitsFn& logits_fn, const Split& split, const SampleLoader& load,
                                          const EvalOptions& opts, const EvalProgressFn& progress = {},
                                          const PredictionFn& on_prediction = {});

}  // namespace clcp
