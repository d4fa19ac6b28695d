// Ray queries into a synthetic street (scene.hpp) for the simulated lidar (lidar.hpp): the first surface along a ray
// from any point, with its Cityscapes labelId, material and normal — the same world the camera renderer (render.hpp)
// draws: the static street is intersected analytically (render.cpp's ray cast), the objects through the renderer's
// own parts, rasterised from the ray origin into a pinhole id buffer exactly as the renderer paints them (back to
// front, objects in front of the street) and intersected with each part's plane. So what a ray hits is what a camera
// at the ray's origin would show in that direction, up to the id buffer's pixel (0.11° at the default resolution).
#pragma once
#include <opencv2/core.hpp>
#include <vector>

#include "suite/data/synth/render_detail.hpp"
#include "suite/data/synth/scene.hpp"

namespace clcp::synth {

struct RayHit {
  bool hit = false;          ///< false: open sky
  float range = 0;           ///< distance from the origin along the unit ray, metres
  uint8_t label_id = 0;      ///< Cityscapes labelId of the surface
  uint8_t material = 0;      ///< detail::PartMaterial
  uint8_t flags = 0;         ///< SurfaceFlag bits (render.hpp)
  bool object = false;       ///< an object part (vehicle, person, pole, …) rather than the static street
  cv::Vec3f normal{0, 0, -1};  ///< unit normal of the plane hit, facing the ray
};

class RayCaster {
 public:
  /// Rays from `origin` (world X, Y, Z, metres). Objects are rasterised into a pinhole view along +Z of half-angles
  /// half_fov_h/half_fov_v degrees at `pixels_per_radian`; rays outside it, or with dir.z < 0.05, return no hit.
  RayCaster(const Scene& scene, const cv::Vec3f& origin, float pixels_per_radian = 520.f, float half_fov_h_deg = 60.f,
            float half_fov_v_deg = 50.f);
  /// The first surface along the unit direction `dir` (world).
  RayHit cast(const cv::Vec3f& dir) const;

 private:
  const Scene& scene_;
  Camera cam_;
  cv::Vec3f origin_;
  std::vector<detail::ObjectPart> parts_;
  cv::Mat1i ids_;  ///< part index per pixel, −1 none
};

}  // namespace clcp::synth
