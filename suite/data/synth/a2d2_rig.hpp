// The A2D2 sensor rig as the embedded data models it: the front-centre camera and the five Velodyne VLP-16 of the
// Audi Q7, with the poses and intrinsics of A2D2's public cams_lidars.json (the numbers are A2D2's calibration,
// ../shared/realdata/a2d2/cams_lidars.json; sparse_conv_reference.md §6).
//
// Frames: A2D2's vehicle frame (x forward, y left, z up, metres); a sensor's "view" = origin + x-axis + y-axis in it,
// z-axis = x × y. Points of the front-centre files are in the camera's view frame (x forward, y left, z up, origin at
// the camera), and row = cy + fy·(−z/x), col = cx + fx·(−y/x) with CamMatrix (verified on the real npz to 1e-13).
// lidar_id: the real file's ids belong to these sensors — front_left 0, rear_right 1, front_right 2, front_center 3,
// rear_left 4 — found by fitting each id's beam elevations to the VLP-16 grid (−15° … 15° in 2° steps) in each sensor
// pose (median deviation 0.02–0.19° for the matching pose, ≥ 0.47° for the others).
// The camera's height above the road, 1.75 m, is an estimate from the real npz (ground returns at z ≈ −1.75 …
// −1.78 m in the camera frame); A2D2 does not state it.
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "suite/data/a2d2.hpp"

namespace clcp::synth {

struct SensorView {
  cv::Vec3d origin, x_axis, y_axis;  ///< in the vehicle frame, as cams_lidars.json "view"
};

struct RigLidar {
  std::string name;  ///< cams_lidars.json key, e.g. "front_left"
  int lidar_id = 0;  ///< the id in the npz files
  SensorView view;
};

/// The five lidars, in lidar_id order.
const std::vector<RigLidar>& a2d2_lidars();
/// cameras.front_center.view.
SensorView a2d2_front_center_view();

/// Columns x, y, z of an orthonormal frame from a view (y re-orthogonalised, z = x × y).
cv::Matx33d view_axes(const SensorView& view);

/// A lidar's pose in the front-centre camera's view frame: origin and axes (columns) there.
struct SensorPose {
  cv::Vec3d origin;
  cv::Matx33d axes;
};
SensorPose lidar_pose_in_camera(const RigLidar& lidar);

/// Height of the front-centre camera above the road (m), see above.
inline constexpr double kCameraHeight = 1.75;

/// The real front-centre camera (1920×1208) scaled by `scale`: focal lengths × scale, principal points
/// (c + 0.5)·scale − 0.5 (pixel centres at integer coordinates, as OpenCV), Resolution round(1920·s) × round(1208·s),
/// the same Distortion (normalised coordinates) and Lens "Telecam". `source` stays empty.
A2D2Camera a2d2_camera(double scale);

/// A cams_lidars.json in A2D2's structure (vehicle, lidars with their views, cameras.front_center with tstamp_delay,
/// view, view_, CamMatrix, CamMatrixOriginal, Distortion, Lens, Resolution) for the camera `camera`. Only the
/// front-centre camera is listed (the embedded data has no other).
nlohmann::json a2d2_cams_lidars_json(const A2D2Camera& camera);

}  // namespace clcp::synth
