// One CLCP training pair from an A2D2 record, exactly as the thesis's A2D2Dataset._getitem_unsafe / __getitem__
// (clcp_reference.md §1.2, HIST code that produced the numbers):
//   1. the npz: points (x, y, z) in the front-centre camera's view frame (x forward, y left, z up, metres), reflectance,
//      row/col = sub-pixel coordinates in the UNDISTORTED image;
//   2. the PNG decoded with OpenCV (BGR) and converted to RGB;
//   3. cv::undistort with cameras.front_center of cams_lidars.json: camera matrix CamMatrixOriginal, coefficients
//      Distortion, new camera matrix CamMatrix, output size unchanged (Lens "Telecam"; "Fisheye" uses
//      cv::fisheye::undistortImage as the thesis's undistort_image does);
//   4. a random square crop of side `crop`: left = randint(0, W − crop), then top = randint(0, H − crop), NumPy's
//      exclusive upper bound, i.e. left ∈ [0, W − crop − 1], top ∈ [0, H − crop − 1] (896 on the real 1920×1208
//      camera: left ∈ [0, 1023], top ∈ [0, 311]); keep the points with top ≤ row < top + crop and
//      left ≤ col < left + crop, comparing the raw float row/col (3-D coordinates are not changed);
//   5. resize of the crop to out_size × out_size with INTER_LINEAR (a 4× downscale for 896 → 224, no area filter);
//   6. train split with `augment`: the thesis's augmentation chain (image_augment.hpp) on the uint8 RGB image;
//   7. normalisation (v − mean) / std per RGB channel on the 0..255 scale, float32, CHW.
// Output: image [3, out, out] float32; points [N', 4] float32 (x, y, z, reflectance), reflectance as stored ("raw",
// what the thesis fed: A2D2's integer 0–255) or divided by 255 ("unit", SemanticKITTI's remission scale), a protocol
// decision (sparse_conv_reference.md §6).
// Retry rule (the thesis's): a crop holding no point → the next record (index + 1 mod n) with a fresh crop, up to
// max_tries records in all, then a one-line error.
//
// Randomness (DESIGN.md "Determinism"): train crops come from Stream(seed, "a2d2/crop", epoch, position), one stream per
// sample whose successive draws serve the successive tries; the augmentation from Stream(seed, "a2d2/augment", epoch,
// position). Val crops come from Stream(kValCropSeed, "a2d2/val-crop", 0, position): seed- and epoch-independent, so
// the val loss of every epoch and every seed sees the same crops (the thesis's val crops were unseeded np.random — a
// protocol decision); val is never augmented. `position` is the sample's position in its epoch's order.
#pragma once
#include <torch/torch.h>

#include <array>
#include <opencv2/core.hpp>
#include <string_view>
#include <vector>

#include "suite/core/rng.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/npz.hpp"

namespace clcp {

enum class ReflectanceScale { kRaw, kUnit };
/// "raw" | "unit"; throws UserError otherwise.
ReflectanceScale reflectance_scale_from_name(std::string_view name);
std::string_view reflectance_scale_name(ReflectanceScale scale);

/// The crop side the thesis used: 896 pixels of the 1920-pixel-wide camera.
inline constexpr int kThesisCrop = 896;
inline constexpr int kThesisCameraWidth = 1920;
/// The fixed seed of the val crops (any constant works; it only has to be independent of the run's seed).
inline constexpr uint64_t kValCropSeed = 0x76616c63726f70ull;  // "valcrop"

struct PairPipelineOptions {
  int crop = 0;        ///< crop side in undistorted-camera pixels; 0 = 896 scaled to the camera width, rounded
                       ///< (896 for 1920 px, 448 for the 960-px embedded data)
  int out_size = 224;  ///< side of the resized image
  ReflectanceScale reflectance = ReflectanceScale::kRaw;
  bool augment = false;  ///< the thesis's `augment` ablation; train split only
  std::array<float, 3> mean_rgb{123.675f, 116.28f, 103.53f};  ///< ImageNet, 0..255 (protocols/dg_acdc.json)
  std::array<float, 3> std_rgb{58.395f, 57.12f, 57.375f};
  int max_tries = 100;  ///< the thesis's retry limit
};

/// The crop side for `camera`: options.crop, or 896·W/1920 rounded when 0. Throws UserError unless
/// 1 ≤ crop < min(W, H) (NumPy's randint(0, 0) would raise).
int crop_side(const PairPipelineOptions& options, const A2D2Camera& camera);

/// cv::undistort(image, CamMatrixOriginal, Distortion, CamMatrix) with the rectification maps computed once
/// (initUndistortRectifyMap CV_16SC2 + remap INTER_LINEAR, BORDER_CONSTANT: what cv::undistort runs internally).
/// Thread-safe after construction.
class Undistorter {
 public:
  explicit Undistorter(const A2D2Camera& camera);
  /// `image` must be camera.width × camera.height (any channel count); throws UserError naming `label` otherwise.
  cv::Mat apply(const cv::Mat& image, std::string_view label = "image") const;
  /// The same maps for a label image (uint8 ids): nearest neighbour, pixels that map outside the recorded image get
  /// 255 (ignore). Same size check.
  cv::Mat apply_labels(const cv::Mat& ids, std::string_view label = "label") const;
  const A2D2Camera& camera() const { return camera_; }

 private:
  A2D2Camera camera_;
  cv::Mat map1_, map2_;
};

/// The members of a lidar npz the pipeline uses, as doubles.
struct LidarCloud {
  int64_t n = 0;
  std::vector<double> points;       ///< n × 3 (x, y, z), row-major
  std::vector<double> reflectance;  ///< n
  std::vector<double> row, col;     ///< n, undistorted-image pixel coordinates
};

/// Extracts points/reflectance/row/col from a decoded npz. Throws UserError naming `label` for a missing member,
/// points not N×3, or mismatched lengths.
LidarCloud lidar_cloud(const NpzArchive& archive, std::string_view label);
LidarCloud read_lidar_cloud(const std::filesystem::path& npz);

struct CropBox {
  int left = 0, top = 0, size = 0;
};

/// left = stream.randint(0, width − size), then top = stream.randint(0, height − size).
CropBox draw_crop(int width, int height, int size, Stream& stream);

/// Indices of the points with top ≤ row < top + size and left ≤ col < left + size (raw doubles), ascending.
std::vector<int64_t> points_in_crop(const LidarCloud& cloud, const CropBox& box);

/// [keep.size(), 4] float32: x, y, z, reflectance (÷255 for kUnit, computed in double then rounded to float).
torch::Tensor crop_points(const LidarCloud& cloud, const std::vector<int64_t>& keep, ReflectanceScale scale);

/// Crop of an undistorted image resized to out × out with INTER_LINEAR (a new, continuous mat).
cv::Mat crop_and_resize(const cv::Mat& undistorted, const CropBox& box, int out_size);

/// (v − mean[c]) / std[c] of an RGB uint8 H×W×3 image as [3, H, W] float32.
torch::Tensor normalise_rgb(const cv::Mat& rgb, const std::array<float, 3>& mean_rgb, const std::array<float, 3>& std_rgb);

enum class PairMode { kTrain, kVal };

struct PairSample {
  torch::Tensor image;   ///< [3, out, out] float32
  torch::Tensor points;  ///< [N', 4] float32, N' ≥ 1
  size_t record = 0;     ///< the record finally used (after retries)
  CropBox crop;
  int tries = 1;         ///< records tried (1 = the first had points in its crop)
};

/// The pipeline above for split.records[index]. With shuffled pairing (split.cloud_of non-empty) the points come from
/// the cloud of record cloud_of[i], cropped with record i's box — the image, the crop draws and every cost stay those
/// of the true pairs. Throws UserError (one line, naming the file) for an unreadable or wrongly sized PNG, a bad npz,
/// or "no lidar point inside any crop after max_tries records".
PairSample load_pair_sample(const PairSplit& split, const Undistorter& undistorter, const PairPipelineOptions& options,
                            size_t index, PairMode mode, uint64_t seed, uint64_t epoch, uint64_t position);

}  // namespace clcp
