// Builders for small A2D2 roots in tests: cams_lidars.json of a scaled A2D2 camera, lidar npz files with chosen
// members, camera PNGs of the calibrated size.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "data_test_util.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/npz.hpp"
#include "suite/data/synth/a2d2_rig.hpp"

namespace clcp::test {

/// A camera of A2D2's geometry at 1/20 size: 96×60 pixels.
inline A2D2Camera tiny_camera() { return synth::a2d2_camera(0.05); }

inline void write_cams_lidars(const std::filesystem::path& file, const A2D2Camera& cam = tiny_camera()) {
  write_json_atomic(file, synth::a2d2_cams_lidars_json(cam));
}

/// Lidar members for n points with row/col spread over the w×h image (row = 2·i mod h, col = 3·i mod w),
/// points (10 + i, −i, 0.5), reflectance i mod 256. `drop` names members to leave out.
inline std::vector<NpzMember> lidar_members(int64_t n, int w = 96, int h = 60, const std::vector<std::string>& drop = {}) {
  auto f8 = [](std::vector<double> v, std::vector<int64_t> shape) {
    NpyArray a;
    a.dtype = NpyDtype::kF8;
    a.shape = std::move(shape);
    a.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * 8);
    return a;
  };
  std::vector<double> pts, row, col, depth;
  std::vector<int64_t> refl;
  for (int64_t i = 0; i < n; ++i) {
    pts.insert(pts.end(), {10.0 + i, -static_cast<double>(i), 0.5});
    row.push_back(static_cast<double>((2 * i) % h) + 0.25);
    col.push_back(static_cast<double>((3 * i) % w) + 0.25);
    depth.push_back(10.0 + i);
    refl.push_back(i % 256);
  }
  NpyArray r;
  r.dtype = NpyDtype::kI8;
  r.shape = {n};
  r.data.assign(reinterpret_cast<const char*>(refl.data()), refl.size() * 8);
  std::vector<NpzMember> m = {{"row", f8(row, {n})}, {"depth", f8(depth, {n})}, {"reflectance", r},
                              {"col", f8(col, {n})}, {"points", f8(pts, {n, 3})}};
  std::vector<NpzMember> out;
  for (auto& x : m)
    if (std::find(drop.begin(), drop.end(), x.key) == drop.end()) out.push_back(x);
  return out;
}

/// <root>/<scene>/lidar/cam_front_center/<stem>_lidar_frontcenter_<frame>.npz (and optionally the camera PNG).
struct A2D2Writer {
  std::filesystem::path root;
  A2D2Camera cam = tiny_camera();

  static std::string stem(const std::string& scene) {
    std::string s = scene;
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    return s;
  }
  std::filesystem::path lidar_path(const std::string& scene, int frame) const {
    return root / scene / "lidar/cam_front_center" / fmt::format("{}_lidar_frontcenter_{:09d}.npz", stem(scene), frame);
  }
  std::filesystem::path camera_path(const std::string& scene, int frame) const {
    return root / scene / "camera/cam_front_center" / fmt::format("{}_camera_frontcenter_{:09d}.png", stem(scene), frame);
  }
  void lidar(const std::string& scene, int frame, const std::vector<NpzMember>& m) const {
    std::filesystem::create_directories(lidar_path(scene, frame).parent_path());
    write_npz(lidar_path(scene, frame), m);
  }
  void camera(const std::string& scene, int frame, int seed = 0) const {
    std::filesystem::create_directories(camera_path(scene, frame).parent_path());
    cv::Mat m(cam.height, cam.width, CV_8UC3);
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x)
        m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 2 + seed), uint8_t(y * 4), uint8_t((x + y + seed) % 256));
    cv::imwrite(camera_path(scene, frame).string(), m);
  }
  void pair(const std::string& scene, int frame, int64_t n = 50) const {
    lidar(scene, frame, lidar_members(n, cam.width, cam.height));
    camera(scene, frame, frame);
  }
};

}  // namespace clcp::test
