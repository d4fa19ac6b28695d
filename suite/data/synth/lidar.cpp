#include "suite/data/synth/lidar.hpp"

#include <algorithm>
#include <cmath>

#include "suite/data/synth/a2d2_rig.hpp"
#include "suite/data/synth/raycast.hpp"
#include "suite/data/synth/render.hpp"

namespace clcp::synth {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kFirings = 1800;            // per revolution: 0.2° at 10 Hz
constexpr int kBeams = 16;                // VLP-16, −15° … +15°
constexpr double kRevolutionUs = 100000;  // 10 Hz
constexpr double kMinRange = 0.5, kMaxRange = 100.0;
constexpr double kRangeNoise = 0.02;
constexpr double kDropout = 0.02, kGlassDropout = 0.6;
constexpr double kReferenceRange = 60.0, kReferenceReflectivity = 10.0;
constexpr double kOcclusionSlack = 0.05, kOcclusionMargin = 0.3;

// Reflectivity (0–255, VLP-16 calibrated scale) of a surface; see the header.
double reflectivity(uint8_t label, uint8_t material) {
  switch (material) {
    case detail::kMatGlass: return 8;
    case detail::kMatLamp: return 160;
    case detail::kMatMarking: return 60;
    case detail::kMatLeaves: return 50;
    default: break;
  }
  switch (label) {
    case 7: return 20;                    // road
    case 8: return 30;                    // sidewalk
    case 11: case 12: return 40;          // building, wall
    case 13: return 30;                   // fence
    case 17: return 35;                   // pole
    case 19: return 20;                   // traffic light
    case 20: return 220;                  // sign face
    case 21: return 50;                   // vegetation
    case 22: return 35;                   // terrain
    case 24: case 25: return 30;          // person, rider
    case 26: return material == detail::kMatMatte ? 5 : 25;  // car: tyres are the matte parts, the body paint
    case 27: case 28: case 31: return 30;  // truck, bus, train
    case 32: case 33: return 25;          // motorcycle, bicycle
    default: return 30;
  }
}

// Camera view frame (x forward, y left, z up) → scene world offsets (X right, Y up, Z forward).
cv::Vec3f to_world(const cv::Vec3d& v) {
  return {static_cast<float>(-v[1]), static_cast<float>(v[2]), static_cast<float>(v[0])};
}

}  // namespace

LidarWeather lidar_weather(Condition c, double sev) {
  LidarWeather w;
  const double s = std::min(sev, 3.0);
  switch (c) {
    case Condition::kClear: case Condition::kNight: break;
    case Condition::kFog:
      w.beta = 0.03 * s;
      w.clutter_prob = 1 - std::exp(-4.0 * w.beta);
      w.fog_profile = true;
      w.clutter_min = 1;
      w.clutter_max = 6;
      w.clutter_refl_min = 1;
      w.clutter_refl_max = 4;
      break;
    case Condition::kRain:
      w.beta = 0.008 * s;
      w.clutter_prob = 0.02 * s;
      w.clutter_min = 0.5;
      w.clutter_max = 10;
      w.clutter_refl_min = 1;
      w.clutter_refl_max = 8;
      w.extra_dropout = 0.05 * s;
      w.wet_factor = 0.55;
      break;
    case Condition::kSnow:
      w.beta = 0.012 * s;
      w.clutter_prob = 0.05 * s;
      w.clutter_min = 0.5;
      w.clutter_max = 15;
      w.clutter_refl_min = 5;
      w.clutter_refl_max = 40;
      w.extra_dropout = 0.08 * s;
      w.snow_cover = std::clamp(0.35 + 0.4 * s, 0.0, 1.0);
      break;
  }
  return w;
}

std::vector<LidarReturn> simulate_lidar(const Scene& scene, const CameraPlacement& place, Condition condition,
                                        double severity, int64_t t0_us, Stream& base, Stream& clutter) {
  const LidarWeather w = lidar_weather(condition, severity);
  const A2D2Camera& cam = place.camera;
  const double fx = cam.cam_matrix(0, 0), fy = cam.cam_matrix(1, 1), cx = cam.cam_matrix(0, 2),
               cy = cam.cam_matrix(1, 2);
  std::vector<LidarReturn> out;
  for (const RigLidar& lidar : a2d2_lidars()) {
    const SensorPose pose = lidar_pose_in_camera(lidar);
    const cv::Vec3f origin = place.world + to_world(pose.origin);
    const RayCaster rays(scene, origin);
    // Azimuth of the camera's forward direction in the sensor frame; firing starts opposite to it.
    const cv::Vec3d fwd = pose.axes.t() * cv::Vec3d(1, 0, 0);
    const double a_start = std::atan2(fwd[0], fwd[1]) + kPi;
    for (int k = 0; k < kFirings; ++k) {
      double az = std::fmod(a_start + 2 * kPi * k / kFirings, 2 * kPi);
      if (az < 0) az += 2 * kPi;
      for (int b = 0; b < kBeams; ++b) {
        // Every beam draws the same numbers whatever the weather and whatever it hits.
        const double u_drop = base.uniform(), noise = base.normal(), u_jit = base.uniform();
        const double c_prob = clutter.uniform(), c_range = clutter.uniform(), c_refl = clutter.uniform();
        const double el = (-15.0 + 2.0 * b) * kPi / 180.0;
        const cv::Vec3d ds(std::cos(el) * std::sin(az), std::cos(el) * std::cos(az), std::sin(el));
        const cv::Vec3d dv = pose.axes * ds;
        const cv::Vec3f dw = to_world(dv);
        const RayHit hit = rays.cast(dw);
        double range = 0, refl = 0;
        uint8_t label = 0;
        bool is_clutter = false, seen = false;
        if (hit.hit && hit.range >= kMinRange && hit.range <= kMaxRange) {
          double rho = reflectivity(hit.label_id, hit.material);
          if (hit.flags & kHorizontal) {
            rho *= w.wet_factor;
            rho += (90.0 - rho) * w.snow_cover;
          }
          const double cos_t = std::abs(static_cast<double>(dw.dot(hit.normal)));
          rho *= (0.8 + 0.4 * u_jit) * (0.2 + 0.8 * cos_t);
          const double r = hit.range;
          const double snr = rho / kReferenceReflectivity * (kReferenceRange / r) * (kReferenceRange / r) *
                             std::exp(-2.0 * w.beta * r);
          const double p_drop = kDropout + w.extra_dropout + (hit.material == detail::kMatGlass ? kGlassDropout : 0.0);
          if (snr >= 1.0 && u_drop >= p_drop) {
            seen = true;
            range = r;
            refl = rho;
            label = hit.label_id;
          }
        }
        if (w.clutter_prob > 0 && c_prob < w.clutter_prob) {
          const double r = w.fog_profile ? w.clutter_min + (w.clutter_max - w.clutter_min) * c_range * c_range
                                         : w.clutter_min + (w.clutter_max - w.clutter_min) * c_range;
          if (!seen || r < range) {
            seen = u_drop >= kDropout + w.extra_dropout;
            range = r;
            refl = w.clutter_refl_min + (w.clutter_refl_max - w.clutter_refl_min) * c_refl;
            label = 0;
            is_clutter = true;
          }
        }
        if (!seen) continue;
        const double measured = std::max(kMinRange, range + kRangeNoise * noise);
        const cv::Vec3d p = pose.origin + dv * measured;
        if (p[0] <= 0.1) continue;
        const double col = cx + fx * (-p[1] / p[0]), row = cy + fy * (-p[2] / p[0]);
        if (col < -0.5 || row < -0.5 || col >= cam.width - 0.5 || row >= cam.height - 0.5) continue;
        if (!place.camera_depth.empty()) {
          // Hidden from the camera (a nearer surface at its pixel, seen past by a sensor mounted elsewhere).
          const float seen = place.camera_depth(static_cast<int>(row + 0.5), static_cast<int>(col + 0.5));
          if (p[0] > seen * (1 + kOcclusionSlack) + kOcclusionMargin) continue;
        }
        LidarReturn ret;
        ret.point = p;
        ret.row = row;
        ret.col = col;
        ret.reflectance = std::clamp<int64_t>(std::llround(refl), 0, 255);
        ret.azimuth = az;
        ret.lidar_id = lidar.lidar_id;
        ret.timestamp = t0_us + std::llround(kRevolutionUs * k / kFirings) + 2 * b;
        ret.label_id = label;
        ret.clutter = is_clutter;
        out.push_back(ret);
      }
    }
  }
  return out;
}

}  // namespace clcp::synth
