// The scene description of one synthetic street view: a straight street along +Z seen from a car in the right lane.
// World frame: X right, Y up (metres, ground at Y = 0), Z forward from the camera (metres). Everything random about a
// scene is drawn here, once, from clcp::Stream(seed, "synth/scene/<domain>", index); renders under any condition reuse
// the same description, so labels never depend on the condition.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace clcp::synth {

/// A city "style": what makes one city's streets look different from another's. Colours are RGB in [0, 1].
struct CityStyle {
  std::string name;
  std::vector<cv::Vec3f> facades;  ///< façade base colours
  float building_h_min = 8, building_h_max = 20;  ///< metres
  float road_half_min = 4, road_half_max = 6;     ///< half the road width, metres
  float sidewalk_min = 2, sidewalk_max = 4;       ///< metres
  float verge_prob = 0.3f;   ///< probability a lot has a grass (terrain) verge behind the sidewalk
  float green_prob = 0.3f;   ///< probability a lot is a gap with vegetation rather than a building
  float car_density = 0.5f; ///< parked-car probability per slot
  float tram_prob = 0.1f;
  cv::Vec3f sky_top{0.35f, 0.55f, 0.8f}, sky_horizon{0.75f, 0.82f, 0.9f};
  float cloudiness = 0.4f;
};

/// Style by city name (the Cityscapes cities used here, plus "acdc-*" styles for ACDC scenes).
const CityStyle& city_style(std::string_view name);

/// Pinhole camera at (x, h, z) looking along +Z: u = cx + f·(X − x)/(Z − z), v = cy − fy·(Y − h)/(Z − z), pixel u
/// covering [u, u + 1). fy = 0 means fy = f (square pixels).
struct Camera {
  int width = 0, height = 0;
  float f = 0, cx = 0, cy = 0, h = 1.2f;
  float fy = 0;         ///< vertical focal length in pixels; 0: the same as f
  float x = 0, z = 0;   ///< position on the ground plane (world X, Z), metres
  bool bonnet = true;   ///< draw the ego-vehicle bonnet (labelId 1) along the bottom edge
  /// Object polygons in the ray cast's pixel convention (pixel u spans [u, u + 1)). false, the Cityscapes/ACDC
  /// renders' setting kept so their bytes do not change, draws them half a pixel up and left of it.
  bool centred_polygons = false;
  float fv() const { return fy > 0 ? fy : f; }
};

enum class LotKind { kBuilding, kHedge, kWall, kFence, kOpen };

/// A stretch of one side of the street, [z0, z1) along Z, standing on the façade line.
struct Lot {
  float z0 = 0, z1 = 0;
  LotKind kind = LotKind::kBuilding;
  float height = 10;      ///< metres (building height, or hedge/wall/fence height)
  cv::Vec3f color{};      ///< base colour
  float floor_h = 3.2f, window_pitch = 2.6f;  ///< façade window grid, metres
  bool grass_verge = false;  ///< the strip between sidewalk and façade line is terrain (else pavement)
  uint32_t salt = 0;      ///< texture salt
};

/// A vertical band behind the façade line (distant buildings or a tree line) seen through gaps.
struct BackLot {
  float z0 = 0, z1 = 0;
  bool vegetation = true;
  float height = 10;
  cv::Vec3f color{};
  uint32_t salt = 0;
};

struct Side {
  float x_facade = 0;  ///< X of the façade plane (negative on the left)
  float x_back = 0;    ///< X of the background plane
  std::vector<Lot> lots;
  std::vector<BackLot> back;
};

enum class ObjKind {
  kCar, kTruck, kBus, kTram, kPerson, kRiderBicycle, kRiderMotorcycle, kBicycle, kMotorcycle,
  kStreetLamp, kSign, kTrafficLight, kTree, kBin
};

/// An object standing on the ground at (x, z) (footprint centre), size w (X) × l (Z) × h (Y), metres.
struct Object {
  ObjKind kind = ObjKind::kCar;
  float x = 0, z = 0, w = 1, l = 1, h = 1;
  cv::Vec3f color{}, color2{};  ///< body / secondary colour (clothes, sign face, …)
  bool towards_camera = false;  ///< vehicles: oncoming (headlights visible) or driving away (tail lights)
  int variant = 0;              ///< sign shape, traffic-light state, lamp arm side, …
  uint32_t salt = 0;
};

struct Scene {
  std::string style;
  Camera cam;
  float road_center = 0, road_half = 5, sidewalk = 3, verge = 0;  ///< metres; verge: strip before the façade line
  float z_end = 200;                  ///< the street is closed by a skyline plane at this depth
  std::vector<float> end_heights;     ///< skyline heights per 8 m of X, from X = −400
  Side left, right;
  std::vector<Object> objects;        ///< unsorted; the renderer sorts back to front
  int sun_side = -1;                  ///< −1: sun from the left, +1: from the right
  float shadow_k = 0.7f;              ///< shadow length per metre of height
  float exposure = 1.0f;              ///< global brightness jitter
  uint32_t salt = 0;
  bool dashed_center = true, zebra = false;
  float zebra_z = 30;
};

/// Draws the scene with index `index` of domain `domain` (e.g. "cityscapes/train", "acdc/fog") in `style`.
/// Rare classes are forced on a fixed schedule of `index` (tram every 5th scene from the 2nd, bus, truck, riders
/// and motorcycles every 3rd) so that a small set already contains all 19 classes.
Scene make_scene(uint64_t seed, std::string_view domain, int index, const CityStyle& style, int width, int height);

}  // namespace clcp::synth
