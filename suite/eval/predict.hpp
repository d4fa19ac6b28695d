// One image → trainId map, as the mmseg 1.2.2 test path: Resize(scale, keep_ratio) → BGR→RGB + normalise →
// slide inference → logits resized bilinearly to the original size → argmax (mmseg_reference.md §1.5, §5.2, §6).
#pragma once
#include <torch/torch.h>

#include <array>
#include <opencv2/core.hpp>

#include "suite/eval/slide.hpp"

namespace clcp {

/// ImageNet mean/std in 0..255 RGB units, as mmseg's data_preprocessor (clcp_reference.md §3.1).
inline constexpr std::array<float, 3> kImageNetMeanRGB{123.675f, 116.28f, 103.53f};
inline constexpr std::array<float, 3> kImageNetStdRGB{58.395f, 57.12f, 57.375f};

/// bgr_original: H0×W0 CV_8UC3 BGR (as cv::imread). The image goes through the data stage's test transforms —
/// resize_keep_ratio (mmcv rescale_size + cv::resize INTER_LINEAR; 1920×1080 → 1820×1024 at scale 2048×1024) and
/// to_normalised_chw (BGR→RGB, (x − mean) / std) — is moved to `device` and run through slide_inference; the logits are
/// resized bilinearly (align_corners=false) to H0×W0 and argmax'ed over classes.
/// Returns [H0,W0] uint8 CPU tensor of trainIds (0..K−1; K ≤ 256). Throws UserError on an empty or non-BGR image.
torch::Tensor predict_labels(const LogitsFn& logits_fn, const cv::Mat& bgr_original, int scale_w, int scale_h,
                             const SlideOptions& slide, const std::array<float, 3>& mean = kImageNetMeanRGB,
                             const std::array<float, 3>& std = kImageNetStdRGB,
                             const torch::Device& device = torch::kCPU);

}  // namespace clcp
