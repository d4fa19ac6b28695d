// Two augmented views of one image, the SimCLR recipe (Chen et al. 2020, Appendix A; methods_reference.md §3.1,
// §3.3), as torchvision 0.29's transforms compute them on uint8 tensors — each transform is torchvision's function
// given the parameters drawn, so the parity tests feed both the same parameters:
//   RandomResizedCrop(out, scale, ratio)  parameters as transforms.RandomResizedCrop.get_params: up to 10 tries of
//       area·U(scale), aspect exp(U(log ratio)), w = round(√(area·aspect)), h = round(√(area/aspect)), accepted when
//       0 < w ≤ W and 0 < h ≤ H, then top = randint(0, H − h + 1), left = randint(0, W − w + 1); else the centre crop
//       with the aspect clamped into `ratio`. The crop is resized with OpenCV (INTER_AREA when it shrinks, INTER_LINEAR
//       when it grows) — not torchvision's antialiased bilinear: on a street crop shrunk about 2× the two differ by
//       1.7 grey levels on average and up to 38 at the sharpest edges (tests/unit/data/test_two_view.cpp).
//   RandomHorizontalFlip(flip_p)
//   RandomApply([ColorJitter(brightness, contrast, saturation, hue)], jitter_p)  factors b, c, s ~ U(max(0, 1 − x),
//       1 + x), hue ~ U(−hue, hue), applied in a random order (Fisher–Yates of 0..3). On uint8, in float32 as
//       torchvision: brightness v → trunc(clamp(f·v, 0, 255)); contrast v → trunc(clamp(f·v + (1 − f)·m, 0, 255)), m
//       the mean of the uint8 grayscale image; saturation: blend with the uint8 grayscale (0.2989 R + 0.587 G +
//       0.114 B, truncated); hue: v/255 → HSV, h ← (h + f) mod 1, → RGB, trunc(·255.999) (convert_image_dtype).
//   RandomGrayscale(grayscale_p)  the uint8 grayscale in all three channels.
//   RandomApply([GaussianBlur(blur_kernel, sigma)], blur_p)  σ ~ U(sigma); the normalised 1-D kernel
//       exp(−x²/(2σ²)), x = −(k−1)/2 … (k−1)/2, reflect padding, rounded to nearest (half to even) on uint8.
// Random draws come from the Stream given, in the order listed; the distributions are torchvision's, not its RNG.
#pragma once
#include <array>
#include <opencv2/core.hpp>

#include "suite/core/rng.hpp"

namespace clcp {

struct ViewOptions {
  int out_size = 224;
  std::array<double, 2> crop_scale{0.08, 1.0};         ///< fraction of the image area
  std::array<double, 2> crop_ratio{3.0 / 4.0, 4.0 / 3.0};  ///< aspect w/h
  double flip_p = 0.5;
  double jitter_p = 0.8, brightness = 0.8, contrast = 0.8, saturation = 0.8, hue = 0.2;  ///< SimCLR s = 1
  double grayscale_p = 0.2;
  double blur_p = 0.5;
  std::array<double, 2> blur_sigma{0.1, 2.0};
  int blur_kernel = 23;                                 ///< odd; SimCLR: 10 % of the side
};

/// What one view drew.
struct ViewParams {
  int top = 0, left = 0, height = 0, width = 0;  ///< crop in the input image, pixels
  bool flip = false;
  bool jitter = false;
  std::array<double, 4> factors{1, 1, 1, 0};  ///< brightness, contrast, saturation, hue
  std::array<int, 4> order{0, 1, 2, 3};
  bool gray = false;
  bool blur = false;
  double sigma = 0;
};

/// Draws a view's parameters for an image of height × width. Throws UserError for options out of range.
ViewParams draw_view(int height, int width, const ViewOptions& options, Stream& stream);
/// The view of a uint8 RGB image (H×W×3) as an out_size² uint8 RGB image.
cv::Mat apply_view(const cv::Mat& rgb, const ViewParams& params, const ViewOptions& options);

// The single transforms, in place on uint8 RGB (torchvision.transforms.functional on uint8 tensors).
void tv_adjust_brightness(cv::Mat& rgb, double factor);
void tv_adjust_contrast(cv::Mat& rgb, double factor);
void tv_adjust_saturation(cv::Mat& rgb, double factor);
void tv_adjust_hue(cv::Mat& rgb, double factor);
void tv_grayscale(cv::Mat& rgb);
void tv_gaussian_blur(cv::Mat& rgb, int kernel, double sigma);

}  // namespace clcp
