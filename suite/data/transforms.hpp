// The finetuning train pipeline of the thesis (clcp_reference.md §3.2), reproducing mmseg 1.2.2 / mmcv 2.x transforms
// step by step (mmseg_reference.md §5.1): RandomResize → RandomCrop → RandomFlip → PhotoMetricDistortion, then the
// SegDataPreProcessor's BGR→RGB, normalisation and bottom/right padding. The test-time keep-ratio Resize (§5.2) too.
//
// Images are cv::Mat BGR uint8 H×W×3, labels cv::Mat uint8 H×W trainIds (0..18, 255). Every random draw comes from
// the clcp::Stream passed in; the draw order per step is the numpy draw order of the mmseg code, with numpy's
// random_sample/uniform → Stream::uniform and randint(lo, hi) → Stream::randint(lo, hi) (hi exclusive in both).
#pragma once
#include <torch/torch.h>

#include <array>
#include <opencv2/core.hpp>
#include <utility>

#include "suite/core/rng.hpp"
#include "suite/data/dataset.hpp"

namespace clcp {

/// mmseg PhotoMetricDistortion parameters (defaults as mmseg 1.2.2).
struct PhotometricOptions {
  double brightness_delta = 32;  ///< brightness: add uniform(−delta, delta)
  double contrast_lower = 0.5, contrast_upper = 1.5;
  double saturation_lower = 0.5, saturation_upper = 1.5;
  int hue_delta = 18;            ///< hue (OpenCV 8-bit scale 0..179): add randint(−delta, delta) = [−18, 17], mod 180
};

/// The thesis train pipeline (configs/clcl/segmenter_mask_cityscapes.py). Sizes in pixels; mean/std on the 0..255
/// scale in RGB order (ImageNet values, as the thesis SegDataPreProcessor).
struct TrainPipelineOptions {
  int scale_w = 2048, scale_h = 1024;      ///< RandomResize scale (w, h)
  double ratio_min = 0.5, ratio_max = 2.0; ///< RandomResize ratio_range, r ~ U[min, max)
  int crop_h = 224, crop_w = 224;          ///< RandomCrop crop_size, and the padded output size
  double cat_max_ratio = 0.75;             ///< RandomCrop: ≥ 1 disables the check
  int ignore_index = 255;                  ///< excluded from the cat_max_ratio count; label pad value
  double flip_prob = 0.5;                  ///< RandomFlip horizontal probability
  bool photometric = true;                 ///< PhotoMetricDistortion on/off
  PhotometricOptions photometric_options;
  std::array<float, 3> mean_rgb{123.675f, 116.28f, 103.53f};
  std::array<float, 3> std_rgb{58.395f, 57.12f, 57.375f};
};

/// One augmented sample before normalisation: image BGR uint8 h×w×3 and label uint8 h×w with h ≤ crop_h, w ≤ crop_w
/// (smaller only when the resized image is smaller than the crop), plus what the random steps chose.
struct TrainSample {
  cv::Mat image;
  cv::Mat label;
  cv::Size resized;  ///< size after RandomResize (w×h)
  cv::Rect crop;     ///< crop box in the resized image (already truncated to it)
  bool flipped = false;
};

/// mmcv rescale_size with a (w, h) scale tuple: s = min(max(scale)/max(h,w), min(scale)/min(h,w)), new size
/// (int(w·s + 0.5), int(h·s + 0.5)). (2048,1024): 2048×1024 → 2048×1024, 1920×1080 → 1820×1024.
cv::Size keep_ratio_size(cv::Size old_size, int scale_w, int scale_h);

/// Test-time mmcv Resize(scale=(scale_w, scale_h), keep_ratio=True): cv::resize INTER_LINEAR to keep_ratio_size.
/// An image already at that size is returned unchanged (a copy).
cv::Mat resize_keep_ratio(const cv::Mat& bgr, int scale_w, int scale_h);

/// mmseg RandomResize(scale, ratio_range, keep_ratio=True): r = stream.uniform(ratio_min, ratio_max) (one draw);
/// target (int(scale_w·r), int(scale_h·r)); keep_ratio_size to that target; image INTER_LINEAR, label INTER_NEAREST.
/// Replaces img and lbl with the resized mats; returns the new size.
cv::Size random_resize(cv::Mat& img, cv::Mat& lbl, int scale_w, int scale_h, double ratio_min, double ratio_max,
                       Stream& stream);

/// mmseg RandomCrop's acceptance test on a candidate's label crop: count pixels per label excluding ignore_index;
/// true iff more than one label is present and max_count / total < cat_max_ratio. (All-ignore crops are rejected.)
bool crop_box_accepted(const cv::Mat& label_crop, double cat_max_ratio, int ignore_index);

/// mmseg 1.2.2 RandomCrop(crop_size=(crop_h, crop_w), cat_max_ratio, ignore_index). A box is drawn as
/// offset_h = randint(0, max(H−crop_h, 0) + 1), then offset_w = randint(0, max(W−crop_w, 0) + 1). If
/// cat_max_ratio < 1: up to 10 times, if crop_box_accepted(box) stop, else draw a new box; after 10 rejections the
/// 11th box is used unchecked. Boxes reaching past the image are truncated (smaller output). Replaces img and lbl
/// with the crops (views into the input buffers); returns the truncated box.
cv::Rect random_crop(cv::Mat& img, cv::Mat& lbl, int crop_h, int crop_w, double cat_max_ratio, int ignore_index,
                     Stream& stream);

/// mmcv RandomFlip(prob, direction='horizontal'): flip iff stream.uniform() < prob (np.random.choice with p=[prob,
/// 1−prob] over [horizontal, None]). Flips image and label horizontally; returns whether it flipped.
bool random_flip(cv::Mat& img, cv::Mat& lbl, double prob, Stream& stream);

/// mmseg 1.2.2 PhotoMetricDistortion on BGR uint8, draws in the mmseg order: brightness (randint(2), then
/// uniform(−δ,δ)), mode = randint(2), contrast if mode == 1 (randint(2), uniform), saturation (randint(2), uniform;
/// in OpenCV 8-bit HSV), hue (randint(2), randint(−δ,δ); H ← (H + d) mod 180), contrast if mode == 0. Arithmetic as
/// numpy: float32 x·α + β, clip to [0, 255], truncate to uint8. Replaces img with a new mat.
void photometric_distortion(cv::Mat& img, Stream& stream, const PhotometricOptions& options = {});

/// The whole augmentation for one sample: streams (seed, "resize"|"crop"|"flip"|"photometric", iteration,
/// sample_index), sample_index being the position within the batch. Does not modify `sample`.
TrainSample apply_train_pipeline(const LoadedSample& sample, const TrainPipelineOptions& options, uint64_t seed,
                                 uint64_t iteration, uint64_t sample_index);

/// SegDataPreProcessor normalisation: BGR uint8 H×W×3 → [3,H,W] float32 RGB, (x − mean) / std in float32.
torch::Tensor to_normalised_chw(const cv::Mat& bgr, const std::array<float, 3>& mean_rgb,
                                const std::array<float, 3>& std_rgb);
/// uint8 H×W label → [H,W] int64.
torch::Tensor label_to_tensor(const cv::Mat& label);
/// SegDataPreProcessor training padding (stack_batch): pads bottom/right to h×w, image [3,H,W] with 0 (after
/// normalisation), label [H,W] with 255. Returns (image [3,h,w] float32, label [h,w] int64). Throws
/// std::invalid_argument if the input is larger than h×w.
std::pair<torch::Tensor, torch::Tensor> pad_to(const torch::Tensor& image, const torch::Tensor& label, int64_t h,
                                               int64_t w);

/// Writes to_normalised_chw(bgr) padded to h×w with 0 into dst (3·h·w floats, CHW), and the label padded with
/// 255 into dst_label (h·w int64). The loader's allocation-free path; identical values to to_normalised_chw + pad_to.
void write_normalised_padded(const cv::Mat& bgr, const cv::Mat& label, const std::array<float, 3>& mean_rgb,
                             const std::array<float, 3>& std_rgb, int64_t h, int64_t w, float* dst,
                             int64_t* dst_label);

}  // namespace clcp
