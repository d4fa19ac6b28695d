// The thesis's image augmentation (the `augment` ablation, clcp_reference.md §1.3; pretrain/data/a2d2_dataset.py
// _get_augmentations), reproducing albumentations 1.4.14 / albucore 0.0.13 with numpy 1.24 arithmetic on the
// 224×224 uint8 RGB image, before normalisation. The chain:
//   Compose(p = 0.9)[
//     OneOf(p = 1)[ColorJitter(0.3, 0.3, 0.3, 0.1) weight 0.7, RandomBrightnessContrast((−0.35, −0.2), (−0.35, −0.2))
//                  weight 0.2, ToGray weight 0.1],
//     OneOf(p = 0.5)[GaussianBlur(blur_limit (3, 9), sigma 0), GlassBlur(σ 0.7, max_delta 1, 2 iterations, "fast"),
//                    GaussNoise(var (10, 500), mean 0, per channel)] equal weights ]
// Each transform below is the albumentations function with its parameters given (the parity tests feed both the same
// parameters, including GlassBlur's swap offsets and GaussNoise's noise array). Arithmetic as albumentations on uint8:
//   brightness(f):  LUT v → trunc(clip(f32(v)·f32(f), 0, 255))                         (albucore multiply_lut)
//   contrast(f):    m = mean of the RGB→GRAY image (OpenCV fixed point, mean in double);
//                   LUT v → trunc(clip(f32(v)·f32(f) + f32(m·(1 − f)), 0, 255))        (multiply_add_lut)
//   saturation(f):  cv::addWeighted(img, f, gray→RGB, 1 − f, 0)
//   hue(f):         RGB→HSV (H 0..179), H ← uint8(npmod(H + 180·f, 180)) by LUT, HSV→RGB
//   (factor 1, resp. hue 0, leaves the image unchanged; factor 0: zeros / the rounded mean / the gray image)
//   RandomBrightnessContrast(α, β): LUT v → trunc(clip(f32(v)·f32(α) + f32(255·β), 0, 255))  (brightness_by_max)
//   ToGray: RGB→GRAY→RGB.   GaussianBlur(k): cv::GaussianBlur k×k, σ from k (OpenCV: 0.3·((k−1)/2 − 1) + 0.8).
//   GlassBlur: GaussianBlur(σ 0.7, ksize from σ), then per iteration the "fast" vectorised swap of numpy —
//     a = x[h+dy, w+dx], b = x[h, w] gathered first, then x[h, w] = a, then x[h+dy, w+dx] = b in index order (a
//     target hit twice keeps the later value) — over h = H−1 … 2, w = W−1 … 2 (w outer), then GaussianBlur(σ 0.7).
//     With max_delta 1 numpy's randint(−1, 1) gives offsets in {−1, 0} only (an albumentations quirk, kept).
//   GaussNoise(noise): v → clip(v + trunc(f32(noise)), 0, 255), noise N(0, σ²) per pixel and channel.
// Random draws (from the Stream given, in this order; the distributions of albumentations, not its RNG):
//   apply = uniform() < 0.9; colour op by one uniform() against the cumulative weights (0.7, 0.9, 1.0);
//   ColorJitter: brightness, contrast, saturation ~ U(0.7, 1.3), hue ~ U(−0.1, 0.1), order = Fisher–Yates of 0..3;
//   RandomBrightnessContrast: α = 1 + U(−0.35, −0.2), then β = U(−0.35, −0.2);
//   second = uniform() < 0.5; op by one uniform() in thirds;
//   GaussianBlur: k = randint(3, 10), an even k becomes (k + 1) mod 10 (so P(3) = 1/7, P(5) = P(7) = P(9) = 2/7,
//     as albumentations 1.4.14); GlassBlur: (H−2)(W−2)·2·2 offsets randint(−1, 1) in C order (pixel, iteration,
//     (dy, dx)); GaussNoise: var ~ U(10, 500), σ = √var, then H·W·3 normals σ·N(0, 1) in C order.
#pragma once
#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "suite/core/rng.hpp"

namespace clcp {

enum class ColourOp { kNone, kColorJitter, kBrightnessContrast, kToGray };
enum class BlurNoiseOp { kNone, kGaussianBlur, kGlassBlur, kGaussNoise };

/// What one call of augment_image chose (for tests and logs).
struct AugmentChoice {
  bool applied = false;  ///< the p = 0.9 group ran
  ColourOp colour = ColourOp::kNone;
  BlurNoiseOp blur_noise = BlurNoiseOp::kNone;
  std::array<double, 4> jitter{};   ///< brightness, contrast, saturation, hue factors
  std::array<int, 4> jitter_order{};
  double alpha = 1, beta = 0;       ///< RandomBrightnessContrast
  int ksize = 0;                    ///< GaussianBlur
  double noise_sigma = 0;           ///< GaussNoise
};

// The transforms, in place on uint8 RGB H×W×3 (a new buffer may replace the mat's).
void adjust_brightness(cv::Mat& rgb, double factor);
void adjust_contrast(cv::Mat& rgb, double factor);
void adjust_saturation(cv::Mat& rgb, double factor);
void adjust_hue(cv::Mat& rgb, double factor);
/// ColorJitter.apply: the four adjustments in `order` (0 brightness, 1 contrast, 2 saturation, 3 hue).
void color_jitter(cv::Mat& rgb, const std::array<double, 4>& factors, const std::array<int, 4>& order);
void brightness_contrast(cv::Mat& rgb, double alpha, double beta);
void to_gray(cv::Mat& rgb);
void gaussian_blur(cv::Mat& rgb, int ksize);
/// dxy: (H − 2·max_delta)·(W − 2·max_delta)·iterations·2 offsets in C order (pixel, iteration, (dy, dx)), each in
/// [−max_delta, max_delta). Throws std::invalid_argument for a wrong size.
void glass_blur(cv::Mat& rgb, double sigma, int max_delta, int iterations, const std::vector<int32_t>& dxy);
/// noise: H·W·3 values in C order (float64, as numpy's normal()).
void gauss_noise(cv::Mat& rgb, const std::vector<double>& noise);

/// The whole chain (see above) on a uint8 RGB image; returns what it chose.
AugmentChoice augment_image(cv::Mat& rgb, Stream& stream);

}  // namespace clcp
