// `clcp-bench data synth`: a deterministic procedural street world rendered straight into the real on-disk layouts of
// Cityscapes (mmseg_reference.md §3) and ACDC (§4), so the same readers load it and the real datasets
// (DESIGN.md "Embedded default data").
//
// Files written under SynthOptions::out (W×H = width×height for every image):
//   cityscapes/leftImg8bit/{train,val}/<city>/<city>_<seq:06>_000019_leftImg8bit.png   8-bit RGB PNG
//   cityscapes/gtFine/{train,val}/<city>/<stem>_gtFine_labelIds.png                    8-bit gray, Cityscapes labelIds
//   cityscapes/gtFine/{train,val}/<city>/<stem>_gtFine_labelTrainIds.png               8-bit gray, trainIds 0..18, 255
//     train cities: aachen, bochum, bremen; val cities: frankfurt, lindau — each with its own style (palette,
//     building heights, street width); images are split into contiguous blocks per city.
//   acdc/rgb_anon/<cond>/val/<GOPRxxxx>/<GOPRxxxx>_frame_<6 digits>_rgb_anon.png        adverse-condition render
//   acdc/rgb_anon/<cond>/val_ref/<GOPRxxxx>/<…>_frame_<6 digits>_rgb_ref_anon.png       the same scene in clear weather
//   acdc/gt/<cond>/val/<GOPRxxxx>/<…>_frame_<6 digits>_gt_labelIds.png / _gt_labelTrainIds.png
//     cond ∈ {fog, night, rain, snow}; each condition has its own scenes (not the Cityscapes ones), two sequences each.
//   a2d2/cams_lidars.json, a2d2/camera_lidar_semantic/<scene>/{camera,lidar,label}/cam_front_center/…,
//     a2d2/camera_lidar_semantic/class_list.json  the A2D2 front-centre camera/lidar pairs and labels of a2d2_synth.hpp (an A2D2 rig driving through the same world; default 8 scenes × 9 frames at
//     960×604, 60 % clear and 10 % each of fog, night, rain, snow).
//   SYNTH.json  seed, options (without out and threads), generator version, counts, per-class pixel fractions, and
//     under "a2d2" the camera, lidar model, condition shares and every frame's condition.
//     Written last: its presence marks a complete output.
// Labels: labelIds hold train_id_to_label_id(trainId) for the 19 classes, 1 (ego vehicle) for the bonnet at the
// bottom, 4 (static: bins, clutter) for some objects; labelTrainIds = label_id_lut()[labelIds]. Conditions never
// change labels.
//
// Camera: pinhole, focal f = 2260·width/2048 px (Cityscapes), ≈1.2 m above the road, horizon near the image centre.
// Conditions: fog by Koschmieder's law I = J·t + A·(1−t), t = exp(−β·depth), β = 0.03·severity per metre; night by
// low ambient light, street lamps, headlights, lit windows and sensor noise; rain by wet darkening, road reflections
// and streaks; snow by whitening of horizontal surfaces and falling particles. `severity` scales all four.
//
// Determinism: every draw comes from clcp::Stream(seed, "synth/…", scene, …); PNGs use fixed compression flags, so the
// same options give byte-identical files for any `threads` (threads only split scenes between workers).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "suite/data/synth/a2d2_synth.hpp"

namespace clcp::synth {

/// Bumped whenever the rendered bytes change for the same options; recorded in SYNTH.json.
inline constexpr const char* kGeneratorVersion = "synth-1.1";

struct SynthOptions {
  std::filesystem::path out;        ///< output root (created; an earlier synth output here is replaced)
  uint64_t seed = 0;                ///< world seed: same seed and options → byte-identical files
  int width = 512;                  ///< image width in pixels (16..8192); focal length scales with it
  int height = 256;                 ///< image height in pixels (16..8192)
  int train_images = 96;            ///< Cityscapes train images (≥ 0), split over 3 cities
  int val_images = 24;              ///< Cityscapes val images (≥ 0), split over 2 cities
  int acdc_val_per_condition = 12;  ///< ACDC val images per condition (≥ 0), each with a val_ref clear render
  double severity = 1.0;            ///< condition strength, 0 (clear) .. 3 (extreme); 1 ≈ typical ACDC
  int threads = 2;                  ///< worker threads (≥ 1); never changes the bytes written
  A2D2SynthOptions a2d2;            ///< the A2D2 camera/lidar pairs (a2d2.scenes = 0: none)
};

struct SynthSummary {
  int cityscapes_train = 0;  ///< images written per split
  int cityscapes_val = 0;
  int acdc_per_condition = 0;  ///< adverse images per condition (the same number of val_ref renders)
  int files_written = 0;       ///< every file written, SYNTH.json included
  /// Fraction of all labelled pixels (Cityscapes train+val and ACDC val) per trainId; sums with ignored_fraction to 1.
  std::array<double, 19> class_fraction{};
  double ignored_fraction = 0.0;            ///< pixels with trainId 255 (bonnet, static clutter)
  std::array<int, 19> images_with_class{};  ///< how many label images contain each trainId
  double wall_seconds = 0.0;                ///< generation time (not written to SYNTH.json, which must be reproducible)
  int a2d2_frames = 0;                      ///< A2D2 pairs written
  int64_t a2d2_points = 0;                  ///< lidar returns over all A2D2 frames
  uint64_t a2d2_bytes = 0;                  ///< bytes of all files under a2d2/
  double a2d2_seconds = 0.0;                ///< worker time spent on A2D2 frames (summed over threads)
};

/// Generates the whole data set. Throws clcp::UserError on bad options (one line naming the option and the allowed
/// range) or when `out` exists, is not empty and holds no SYNTH.json (so a user's folder is never overwritten).
SynthSummary generate(const SynthOptions& options);

}  // namespace clcp::synth
