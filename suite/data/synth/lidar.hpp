// A simulated A2D2 lidar scan of a synthetic street: the five VLP-16 of a2d2_rig.hpp fire into the world that the
// camera renders (raycast.hpp), and the returns that the front-centre camera sees are kept, as in A2D2's
// camera_lidar_semantic files. "Sees" (a choice): inside its image, and not hidden behind a nearer surface at that
// pixel — the sensors sit up to 2.1 m from the camera, and their parallax would otherwise put about 4 % of the
// returns (a façade behind a sign, say) on pixels of another object.
//
// Sensor model (per VLP-16, values documented by Velodyne unless marked as a choice):
//   16 beams at elevations −15° … +15° in 2° steps; 1800 firings per revolution (0.2° azimuth at 10 Hz); range
//   0.5 … 100 m; range noise N(0, 2 cm) (±3 cm accuracy); calibrated reflectivity 0–255 (0–100 diffuse, > 100
//   retro-reflective), reported as an integer.
//   Reflectivity per surface (choice): asphalt 20, lane paint 60, pavement 30, terrain 35, façade/wall 40, window glass
//   8, fence 30, vegetation 50, pole 35, sign face 220 (retro-reflective sheeting), traffic-light housing 20, person
//   and rider 30, car paint 25, lamps and reflectors 160, tyres 5, trucks/buses/trams 30, two-wheelers 25, other 30;
//   each return × U(0.8, 1.2), then × (0.2 + 0.8·cos θ) for the incidence angle θ.
//   Detection (choice, a link budget): a return is seen when (ρ/10)·(60 m / R)²·exp(−2βR) ≥ 1, i.e. a
//   reflectivity-10 target at normal incidence to 60 m in clear air (darker and grazing returns, like the road far
//   ahead, fade earlier); 2 % of returns drop at random, window glass 60 % (specular).
// Weather, with the camera's extinction coefficient β (weather.hpp, Koschmieder: visibility ≈ 3/β) in the two-way
// transmittance exp(−2βR), so fog shortens the range exactly where the camera's contrast fades:
//   fog   β = 0.03·severity; backscatter: with probability 1 − exp(−4 m·β) a beam returns from the droplets at
//         1 + 5u² m (u ~ U(0, 1)) with reflectivity 1–4 if that is nearer than its target;
//   rain  β = 0.008·severity; drop returns with probability 0.02·severity at U(0.5, 10) m, reflectivity 1–8; + 5 %·
//         severity dropout; wet horizontal surfaces reflect 45 % less (specular water film);
//   snow  β = 0.012·severity; flake returns with probability 0.05·severity at U(0.5, 15) m, reflectivity 5–40;
//         + 8 %·severity dropout; horizontal surfaces under snow cover (the camera's cover fraction
//         0.35 + 0.4·severity) move their reflectivity towards 90;
//   night changes nothing (an active sensor): its scan equals the clear one bit for bit.
// Determinism: the draws of every beam come from two Streams — `base` (dropout, range noise, reflectivity jitter: 4
// draws per beam that can reach the camera's view, whatever the weather) and `clutter` (3 draws per such beam) — so
// a condition changes only thresholds, never the draws of another beam.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "suite/core/rng.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/synth/scene.hpp"
#include "suite/data/synth/weather.hpp"

namespace clcp::synth {

/// One return, in A2D2's npz terms plus the truth the tests use.
struct LidarReturn {
  cv::Vec3d point;         ///< camera view frame (x forward, y left, z up), metres
  double row = 0, col = 0; ///< projection into the undistorted camera image (CamMatrix)
  int64_t reflectance = 0; ///< 0–255
  double azimuth = 0;      ///< firing azimuth in the sensor frame, atan2(x, y) in [0, 2π) (Velodyne's convention)
  int lidar_id = 0;
  int64_t timestamp = 0;   ///< µs
  uint8_t label_id = 0;    ///< Cityscapes labelId of the surface hit; 0 for weather clutter
  bool clutter = false;    ///< a return from fog droplets, rain drops or snowflakes
};

struct LidarWeather {
  double beta = 0;             ///< extinction, 1/m
  double clutter_prob = 0;     ///< per beam
  double clutter_min = 0, clutter_max = 0;  ///< range of clutter returns, m (fog: 1 + 5u²)
  double clutter_refl_min = 0, clutter_refl_max = 0;
  bool fog_profile = false;    ///< clutter range 1 + 5u² instead of uniform
  double extra_dropout = 0;
  double wet_factor = 1;       ///< reflectivity factor of horizontal surfaces
  double snow_cover = 0;       ///< towards reflectivity 90 on horizontal surfaces
};
LidarWeather lidar_weather(Condition condition, double severity);

/// The front-centre camera for the projection: undistorted intrinsics and size (A2D2Camera.cam_matrix, width,
/// height) and its world position (scene frame: X right, Y up, Z forward; the camera looks along +Z).
struct CameraPlacement {
  A2D2Camera camera;
  cv::Vec3f world{0, static_cast<float>(1.75), 0};
  /// Optional W×H depth (along x, metres) of the camera's undistorted render: returns behind it by more than
  /// 5 % + 0.3 m at their pixel are hidden from the camera and dropped (empty: keep every return).
  cv::Mat1f camera_depth;
};

/// Simulates the scan (see above). Returns sorted by lidar_id, then firing order (azimuth from the back of the
/// sensor), then beam; only returns with x > 0.1 m whose (row, col) rounds to a pixel of the W×H image
/// (−0.5 ≤ row < H − 0.5, same for col) and that the camera sees (placement.camera_depth) are kept. `t0_us` is the
/// frame's timestamp.
std::vector<LidarReturn> simulate_lidar(const Scene& scene, const CameraPlacement& placement, Condition condition,
                                        double severity, int64_t t0_us, Stream& base, Stream& clutter);

}  // namespace clcp::synth
