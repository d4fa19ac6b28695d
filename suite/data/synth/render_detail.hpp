// Internal interface between the renderer (render.cpp) and the lidar ray caster (raycast.cpp): the object parts as
// the renderer rasterises them, and the analytic ray cast of the static street. Not for use elsewhere.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "suite/data/synth/scene.hpp"

namespace clcp::synth::detail {

/// Fixed-point bits of ObjectPart::pts (cv::fillPoly's `shift`).
inline constexpr int kPartShift = 3;

/// Surface kinds that decide lidar reflectance beyond the label.
enum PartMaterial : uint8_t { kMatMatte, kMatGlass, kMatLeaves, kMatPaint, kMatLamp, kMatMarking };

/// One planar object part: a polygon (or a closed polyline of `thickness` pixels) in `cam`'s image, lying in the
/// world plane {axis = plane} (0 X, 1 Y, 2 Z).
struct ObjectPart {
  std::vector<cv::Point> pts;  ///< image coordinates × 2^kPartShift
  int thickness = 0;
  uint8_t label_id = 0;
  uint8_t material = kMatMatte;
  uint8_t flags = 0;           ///< SurfaceFlag bits
  uint8_t axis = 2;
  float plane = 0;
  float depth = 0;             ///< distance along Z from the camera (parts nearer than 0.5 m are not drawn)
};

/// Every object part of `scene` seen from `cam` in the renderer's painting order (back to front), without the ego
/// bonnet. cam's position and intrinsics replace scene.cam.
std::vector<ObjectPart> object_parts(const Scene& scene, const Camera& cam);

/// The static street (ground, façades, background, skyline) along the ray (dx, dy, 1) from `cam`'s position.
struct StaticHit {
  bool hit = false;     ///< false: sky
  float depth = 0;      ///< along Z (Z − cam.z), metres
  uint8_t label_id = 0;
  uint8_t material = kMatMatte;
  uint8_t flags = 0;
  int axis = -1;        ///< the plane hit: 0 façade/background (X), 1 ground (Y), 2 skyline (Z)
};
StaticHit cast_static(const Scene& scene, const Camera& cam, float dx, float dy);

}  // namespace clcp::synth::detail
