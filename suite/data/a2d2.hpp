// A2D2 "camera_lidar_semantic" reader: the front-centre camera/lidar pairs that CLCP pretrains on
// (clcp_reference.md §1.2; the real files' format: ../shared/realdata/SOURCES.md §2).
//
// Layout under ROOT (the camera_lidar_semantic folder of the A2D2 download):
//   ROOT/<scene>/lidar/cam_front_center/<scene without '_'>_lidar_frontcenter_<9 digits>.npz
//   ROOT/<scene>/camera/cam_front_center/<scene without '_'>_camera_frontcenter_<9 digits>.png
//   <scene> = YYYYMMDD_HHMMSS, e.g. 20181107_132300. The camera name is the lidar name with every "lidar" replaced by
//   "camera" and ".npz" by ".png" (the thesis's rule). Other folders (label/: read by a2d2_labels.hpp for the
//   supervised method; other cameras, per-frame *.json) are not read here; sub-folders of ROOT that are not named like
//   a scene are ignored.
//   cams_lidars.json (the sensor calibration): the path given in A2D2Options::cams_lidars, else ROOT/cams_lidars.json,
//   else ROOT/../cams_lidars.json (where the A2D2 download puts it, beside camera_lidar_semantic/).
//
// Scan (deterministic): scenes sorted by name, lidar files sorted by path (byte-wise, as the thesis's sorted glob before
// its refactor; the refactor's unsorted glob is a bug, clcp_reference §6.6). Only the npz headers are read (dtype and
// shape of each member, read_npz_headers), not the point data.
// Skipped — counted, named with the reason in A2D2Dataset::skipped and the manifest, never silently dropped:
//   - a lidar file whose `points` is empty (N = 0) or that lacks one of the required members points (N×3),
//     reflectance, row, col (N); other members (azimuth, lidar_id, depth, timestamp, distance) are ignored. The thesis
//     lost 15 such files and skipped them through a list of absolute paths that matches nothing elsewhere;
//   - a lidar file without its camera PNG, a camera PNG without its lidar file;
//   - a lidar file whose name does not follow the pattern above.
// Errors (UserError, one line naming the file and the fix): ROOT missing; no scene folders; a scene with no usable
// pair ("empty scene"); cams_lidars.json missing (names every place looked) or without a usable cameras.front_center
// entry; an npz that is not a zip, is damaged, has an unsupported dtype or Fortran order (npz.hpp); `points` not N×3;
// reflectance/row/col whose length differs from points' N ("mismatched member lengths").
//
// Split (per scene, as the thesis): val_ratio is clamped to [0, 0.5] (a warning in A2D2Dataset::warnings when it
// changes); per scene with n usable pairs, n_val = floor(n·val_ratio) and the LAST n_val pairs (the temporally last,
// as frame numbers increase) go to val, the rest to train. n_val = 0 keeps the whole scene in train (the refactor's
// `[:-0]` bug, which put the whole scene into val, is not reproduced).
#pragma once
#include <array>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace clcp {

/// cams_lidars.json → cameras.front_center.
struct A2D2Camera {
  cv::Matx33d cam_matrix;           ///< "CamMatrix": intrinsics of the undistorted image (pixels; centre at integers)
  cv::Matx33d cam_matrix_original;  ///< "CamMatrixOriginal": intrinsics of the recorded (distorted) image
  std::array<double, 5> distortion{};  ///< "Distortion"[0]: OpenCV (k1, k2, p1, p2, k3)
  std::string lens;                 ///< "Telecam" (pinhole) or "Fisheye"
  int width = 0, height = 0;        ///< "Resolution" [W, H] in pixels
  std::filesystem::path source;     ///< the cams_lidars.json read
};

/// Reads cameras.front_center of a cams_lidars.json. Throws UserError naming the file and the missing or malformed
/// key (cameras.front_center, CamMatrix 3×3, CamMatrixOriginal 3×3, Distortion [[5 numbers]], Lens, Resolution [W,H]).
A2D2Camera read_front_center_camera(const std::filesystem::path& cams_lidars_json);

/// The cams_lidars.json to use for `root`: `explicit_path` if non-empty (must exist), else root/cams_lidars.json,
/// else root/../cams_lidars.json. Throws UserError listing the places looked.
std::filesystem::path find_cams_lidars(const std::filesystem::path& root, const std::filesystem::path& explicit_path);

struct A2D2Pair {
  std::filesystem::path lidar;   ///< absolute path of the npz
  std::filesystem::path camera;  ///< absolute path of the PNG
  std::string scene;             ///< e.g. "20181107_132300"
  int64_t frame = 0;             ///< the 9-digit frame number
  std::string id;                ///< lidar path relative to ROOT with '/' separators (stable key)
};

struct SkippedFile {
  std::filesystem::path file;  ///< absolute
  std::string reason;          ///< e.g. "points is empty (0 points) and lacks reflectance, row, col"
};

struct A2D2Options {
  double val_ratio = 0.15;               ///< the thesis's value (train.py); clamped to [0, 0.5]
  std::filesystem::path cams_lidars;     ///< empty: look beside ROOT (see above)
};

struct A2D2Dataset {
  std::filesystem::path root;
  A2D2Camera camera;
  std::vector<std::string> scenes;     ///< sorted
  std::vector<A2D2Pair> pairs;         ///< every usable pair, sorted by lidar path
  std::vector<SkippedFile> skipped;    ///< sorted by path
  double val_ratio = 0.15;             ///< after clamping
  std::vector<size_t> train, val;      ///< indices into pairs, ascending
  std::vector<std::string> warnings;   ///< e.g. the clamping of val_ratio
};

/// The camera_lidar_semantic folder a user's path names: path/a2d2/camera_lidar_semantic, path/camera_lidar_semantic,
/// or path itself when it is called camera_lidar_semantic; "" when none of these exists.
std::filesystem::path find_a2d2_root(const std::filesystem::path& path);

/// Scans ROOT (see above) and splits it. Throws UserError for the errors listed above.
A2D2Dataset read_a2d2(const std::filesystem::path& root, const A2D2Options& options = {});

/// val_ratio clamped to [0, 0.5]; appends "val_ratio X is outside [0, 0.5]; using Y" to `warnings` when it changes it.
double clamp_val_ratio(double val_ratio, std::vector<std::string>& warnings);

/// The per-scene split rule on scene labels in pair order: result[i] is true when pair i goes to val. Pairs of a scene
/// must be contiguous (they are, sorted by path). n_val = floor(n·val_ratio) per scene (val_ratio already clamped).
std::vector<bool> val_assignment(const std::vector<std::string>& scene_of_pair, double val_ratio);

/// One split as the pair pipeline and loader consume it.
struct PairSplit {
  std::string dataset = "a2d2";
  std::string name;                ///< "train" | "val"
  std::filesystem::path root;
  A2D2Camera camera;
  std::vector<A2D2Pair> records;   ///< in dataset order
  /// Shuffled pairing (CLCP's negative control): the image of record i is paired with the lidar cloud of record
  /// cloud_of[i]; empty: every image with its own cloud.
  std::vector<size_t> cloud_of;
};

/// dataset's "train" or "val" split; throws UserError for another name or an empty split.
PairSplit a2d2_split(const A2D2Dataset& dataset, std::string_view name);

/// A derangement of 0 … n−1 (no i maps to itself), seeded: Sattolo's algorithm on the identity with draws from
/// Stream(seed, "a2d2/derangement") — for j = n−1 … 1: swap(p[j], p[randint(0, j)]) — which gives one n-cycle, so
/// no fixed point. Throws UserError for n < 2 (a single pair cannot be shuffled).
std::vector<size_t> derangement(size_t n, uint64_t seed);
/// Pairs every image of `split` with another record's cloud: cloud_of = derangement(records, seed).
void shuffle_pairing(PairSplit& split, uint64_t seed);

}  // namespace clcp
