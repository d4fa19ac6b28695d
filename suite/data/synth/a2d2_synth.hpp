// The embedded A2D2 data: the synthetic street world (scene.hpp) seen by an A2D2 front-centre camera and lidar rig
// (a2d2_rig.hpp) from a car driving along the street, written in A2D2's camera_lidar_semantic layout so that the A2D2
// reader (suite/data/a2d2.hpp) loads it like the real data set.
//
// Per frame k of scene s:
//  - the camera sits 1.75 m above the right lane at Z = k·step_m (default 3 m: 10 m/s at 0.3 s between kept frames);
//    moving road users keep their speed (same-direction traffic and cyclists drive with the car, oncoming traffic
//    at the same speed the other way), parked and street objects stand still; static objects in the car's path
//    (|X| < 1.3 m over the drive) and oncoming vehicles that would cross it are removed from the scene;
//  - the camera: A2D2's front-centre intrinsics scaled by `scale` (default 0.5: 960×604; a2d2_rig.hpp), rendered
//    UNDISTORTED through CamMatrix (with a margin wide enough for the next step), the scene condition applied
//    (weather.hpp), then warped into the DISTORTED image of CamMatrixOriginal + Distortion (k1 = −0.2611): each
//    distorted pixel samples the undistorted render at cv::undistortPoints of itself (bilinear). That PNG is what the
//    real data set stores; the pipeline's cv::undistort (a2d2_sample.hpp) maps it back;
//  - the lidar: simulate_lidar (lidar.hpp) under the same condition; row/col project into the undistorted image.
// Files (A2D2's names; <scene> = 20200101_HHMM00, HHMM = 10:00 + s minutes; frame numbers 10·k, 9 digits):
//   a2d2/cams_lidars.json                                         a2d2_cams_lidars_json (A2D2's structure)
//   a2d2/camera_lidar_semantic/<scene>/camera/cam_front_center/<scene w/o _>_camera_frontcenter_<frame>.png
//   a2d2/camera_lidar_semantic/<scene>/lidar/cam_front_center/<scene w/o _>_lidar_frontcenter_<frame>.npz
//     members in A2D2's order and dtypes: azimuth <f8, row <f8, lidar_id <f8, depth <f8 (= x), reflectance <i8,
//     col <f8, points <f8 (N, 3), timestamp <i8, distance <f8 (= |points|); written like np.savez_compressed (npz.hpp).
//   a2d2/camera_lidar_semantic/<scene>/label/cam_front_center/<scene w/o _>_label_frontcenter_<frame>.png
//     A2D2's colour-coded semantic label, aligned pixel for pixel with the camera PNG: the render's Cityscapes
//     labelIds warped with the camera's distortion maps (nearest), each coloured as the A2D2 class of
//     a2d2_label_class (below); decoded by suite/data/a2d2_labels.hpp.
//   a2d2/camera_lidar_semantic/class_list.json                    A2D2's 55 classes, in A2D2's format
// The labels and class_list.json were added without changing a byte of the other files or any random draw (so
// generator_version stays; an output rendered before them lacks only these files).
// Conditions: a fixed share of all frames per condition (default 60 % clear, 10 % each of fog, night, rain, snow;
// exact counts by largest remainder over scenes × frames, assigned to frames by a seeded permutation), recorded per
// frame in SYNTH.json.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "suite/data/a2d2.hpp"
#include "suite/data/npz.hpp"
#include "suite/data/synth/lidar.hpp"
#include "suite/data/synth/weather.hpp"

namespace clcp::synth {

/// Order of A2D2SynthOptions::condition_share and of the recorded counts.
inline const std::array<const char*, 5> kA2D2Conditions = {"clear", "fog", "night", "rain", "snow"};

struct A2D2SynthOptions {
  int scenes = 8;            ///< scenes (drives), 0 disables the A2D2 output
  int frames = 9;            ///< frames per scene (≥ 1)
  double scale = 0.5;        ///< camera resolution as a share of A2D2's 1920×1208 (0.1 … 1)
  double step_m = 3.0;       ///< distance the car drives between frames
  std::array<double, 5> condition_share{0.6, 0.1, 0.1, 0.1, 0.1};  ///< clear, fog, night, rain, snow (normalised)
};

/// Throws UserError naming the option for a value out of range.
void validate(const A2D2SynthOptions& options);

/// The condition of every frame in scene-major order (exact shares, see above).
std::vector<Condition> a2d2_conditions(const A2D2SynthOptions& options, uint64_t seed);

/// The A2D2 scene folder name of scene s, e.g. "20200101_100000".
std::string a2d2_scene_name(int scene);

/// The distortion warp of a camera: for each distorted pixel the undistorted (CamMatrix) coordinates to sample.
struct DistortionWarp {
  cv::Mat1f map_x, map_y;     ///< W×H
  int left = 0, top = 0, right = 0, bottom = 0;  ///< render margins around the W×H undistorted frame
};
DistortionWarp distortion_warp(const A2D2Camera& camera);

/// One rendered frame in memory (for the writer and the tests).
struct A2D2Frame {
  cv::Mat3b distorted_bgr;    ///< W×H: the PNG's pixels
  cv::Mat3b undistorted_bgr;  ///< W×H: the render through CamMatrix, before the distortion warp
  cv::Mat1b label_id;         ///< W×H Cityscapes labelIds of the undistorted render
  cv::Mat1b distorted_label_id;  ///< W×H Cityscapes labelIds aligned with distorted_bgr (the warp, nearest)
  std::vector<LidarReturn> lidar;
  Condition condition = Condition::kClear;
};

/// Renders frame `frame` of scene `scene` under `condition`.
A2D2Frame render_a2d2_frame(uint64_t seed, int scene, int frame, Condition condition, double severity,
                            const A2D2SynthOptions& options, const A2D2Camera& camera, const DistortionWarp& warp);

/// The A2D2 class (a2d2_labels.hpp) the label PNG gives a Cityscapes labelId: the natural counterpart (road → "RD
/// normal street", sidewalk → "Sidewalk", building → "Buildings", fence → "Grid structure", guard rail → "Sidebars",
/// pole → "Poles", traffic light → "Traffic signal 1", traffic sign → "Traffic sign 1", vegetation → "Nature object",
/// sky → "Sky", person → "Pedestrian 1", car → "Car 1", truck → "Truck 1", motorcycle → "Small vehicles 1", bicycle →
/// "Bicycle 1", parking → "Parking area", ego vehicle → "Ego car"), "Blurred area" (ignored) for the rest (wall,
/// terrain, rider, bus, train, void classes, …). Decoded back, every labelId gets its Cityscapes trainId except those
/// without an A2D2 counterpart, which get 255.
std::string_view a2d2_label_class(uint8_t label_id);
/// The label PNG's pixels (BGR) of a labelId image.
cv::Mat3b a2d2_label_bgr(const cv::Mat1b& label_id);
/// class_list.json's text as A2D2 writes it (4-space indent, A2D2's order): all 55 classes.
std::string a2d2_class_list_text();

/// The npz members of a scan, in A2D2's order and dtypes.
std::vector<NpzMember> a2d2_npz_members(const std::vector<LidarReturn>& lidar);

/// Summary of a written A2D2 output.
struct A2D2SynthSummary {
  int frames = 0;
  int64_t points = 0;       ///< lidar returns over all frames
  uint64_t bytes = 0;       ///< all files under a2d2/
  std::array<int, 5> per_condition{};
  nlohmann::json record;    ///< the "a2d2" section of SYNTH.json
};

}  // namespace clcp::synth
