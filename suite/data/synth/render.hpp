// Renders a Scene in clear weather into a G-buffer: colour, per-pixel depth, Cityscapes labelIds, surface flags,
// night-time emission and the light sources. Conditions (weather.hpp) only re-shade this buffer, so labels and image
// agree pixel-exactly under every condition.
//
// Method: the static street (ground, façades, background, skyline, sky) is ray-cast per pixel; objects are projected
// 3D boxes and billboards filled back to front (painter's algorithm) into an id buffer with cv::fillPoly (no
// anti-aliasing, so a label pixel is exactly the surface seen there), then shaded per pixel.
#pragma once
#include <opencv2/core.hpp>
#include <vector>

#include "suite/data/synth/scene.hpp"

namespace clcp::synth {

/// Depth written for sky pixels (metres); fog transmittance there is exp(−β·kSkyDepth) ≈ 0.
inline constexpr float kSkyDepth = 1.0e4f;

enum SurfaceFlag : uint8_t {
  kHorizontal = 1,   ///< faces up: snow settles, rain wets
  kRoadSurface = 2,  ///< road: reflective when wet
  kSkyPixel = 4,
  kFoliage = 8,
  kGround = 16,      ///< ground plane (road, sidewalk, terrain)
};

struct Light {
  cv::Vec3f pos;     ///< world position, metres
  cv::Vec3f color;   ///< RGB
  float intensity = 1;  ///< relative brightness at 1 m
  float radius = 8;     ///< metres at which illumination halves
  bool headlight = false;  ///< a beam along −Z (towards the camera) rather than a point light
};

struct Frame {
  Camera cam;
  cv::Mat3f color;     ///< H×W RGB in [0, 1] (may exceed 1 before clamping), clear weather
  cv::Mat3f emission;  ///< H×W RGB light emitted at night (lamps, lit windows, vehicle and traffic lights)
  cv::Mat1f depth;     ///< H×W metres along the optical axis; kSkyDepth for sky
  cv::Mat1b label_id;  ///< H×W Cityscapes labelIds
  cv::Mat1b flags;     ///< H×W SurfaceFlag bits
  std::vector<Light> lights;
  uint32_t salt = 0;
};

Frame render(const Scene& scene);

}  // namespace clcp::synth
