// Random scene layout (see scene.hpp). Every draw comes from one Stream per scene, in a fixed order.
#include "suite/data/synth/scene.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"

namespace clcp::synth {
namespace {

cv::Vec3f rgb(int r, int g, int b) { return {r / 255.f, g / 255.f, b / 255.f}; }

std::map<std::string, CityStyle, std::less<>> make_styles() {
  std::map<std::string, CityStyle, std::less<>> m;
  CityStyle s;
  // aachen: old town, warm plaster façades, narrow street, medium buildings.
  s = {};
  s.name = "aachen";
  s.facades = {rgb(196, 170, 140), rgb(180, 150, 120), rgb(210, 195, 170), rgb(160, 110, 90), rgb(200, 200, 190)};
  s.building_h_min = 9; s.building_h_max = 16; s.road_half_min = 3.2f; s.road_half_max = 4.5f;
  s.sidewalk_min = 1.8f; s.sidewalk_max = 3.0f; s.verge_prob = 0.15f; s.green_prob = 0.2f; s.car_density = 0.7f;
  s.tram_prob = 0.05f; s.cloudiness = 0.3f;
  m[s.name] = s;
  // bochum: post-war blocks, grey/brown, wide roads, more greenery.
  s = {};
  s.name = "bochum";
  s.facades = {rgb(130, 120, 110), rgb(150, 140, 130), rgb(110, 90, 80), rgb(170, 160, 150), rgb(120, 125, 130)};
  s.building_h_min = 10; s.building_h_max = 24; s.road_half_min = 5; s.road_half_max = 7.5f;
  s.sidewalk_min = 2.5f; s.sidewalk_max = 4.5f; s.verge_prob = 0.5f; s.green_prob = 0.35f; s.car_density = 0.5f;
  s.tram_prob = 0.15f; s.sky_top = rgb(110, 140, 180); s.sky_horizon = rgb(200, 205, 210); s.cloudiness = 0.7f;
  m[s.name] = s;
  // bremen: brick, low houses, lots of trees.
  s = {};
  s.name = "bremen";
  s.facades = {rgb(150, 70, 55), rgb(170, 90, 70), rgb(130, 60, 50), rgb(200, 190, 175), rgb(120, 80, 70)};
  s.building_h_min = 7; s.building_h_max = 13; s.road_half_min = 3.8f; s.road_half_max = 5.5f;
  s.sidewalk_min = 2; s.sidewalk_max = 3.5f; s.verge_prob = 0.45f; s.green_prob = 0.45f; s.car_density = 0.6f;
  s.tram_prob = 0.1f; s.cloudiness = 0.5f;
  m[s.name] = s;
  // frankfurt: tall, modern (glass, concrete), wide streets.
  s = {};
  s.name = "frankfurt";
  s.facades = {rgb(150, 160, 170), rgb(190, 190, 185), rgb(90, 105, 120), rgb(170, 150, 130), rgb(210, 210, 215)};
  s.building_h_min = 14; s.building_h_max = 40; s.road_half_min = 5.5f; s.road_half_max = 8;
  s.sidewalk_min = 3; s.sidewalk_max = 5; s.verge_prob = 0.2f; s.green_prob = 0.2f; s.car_density = 0.55f;
  s.tram_prob = 0.2f; s.sky_top = rgb(80, 130, 200); s.cloudiness = 0.25f;
  m[s.name] = s;
  // lindau: small lakeside town, pastel, low, green.
  s = {};
  s.name = "lindau";
  s.facades = {rgb(230, 210, 160), rgb(220, 180, 170), rgb(200, 220, 200), rgb(240, 235, 220), rgb(210, 170, 120)};
  s.building_h_min = 6; s.building_h_max = 12; s.road_half_min = 3; s.road_half_max = 4.2f;
  s.sidewalk_min = 1.5f; s.sidewalk_max = 3; s.verge_prob = 0.55f; s.green_prob = 0.5f; s.car_density = 0.45f;
  s.tram_prob = 0.05f; s.cloudiness = 0.35f;
  m[s.name] = s;
  // ACDC (Switzerland, GoPro): mixed styles per condition.
  const char* acdc[] = {"acdc-fog", "acdc-night", "acdc-rain", "acdc-snow"};
  for (int i = 0; i < 4; ++i) {
    s = {};
    s.name = acdc[i];
    s.facades = {rgb(220, 215, 200), rgb(180, 175, 170), rgb(200, 170, 140), rgb(140, 140, 150), rgb(230, 225, 215)};
    s.building_h_min = 7 + i; s.building_h_max = 20 + 2 * i; s.road_half_min = 3.5f; s.road_half_max = 6.5f;
    s.sidewalk_min = 1.5f; s.sidewalk_max = 3.5f; s.verge_prob = 0.4f; s.green_prob = 0.4f; s.car_density = 0.5f;
    s.tram_prob = 0.15f; s.cloudiness = 0.5f;
    m[s.name] = s;
  }
  return m;
}

cv::Vec3f jitter(const cv::Vec3f& c, Stream& r, float amount) {
  const float g = static_cast<float>(r.uniform(1 - amount, 1 + amount));
  cv::Vec3f o;
  for (int k = 0; k < 3; ++k)
    o[k] = std::clamp(c[k] * g + static_cast<float>(r.uniform(-amount, amount)) * 0.3f, 0.02f, 0.98f);
  return o;
}

cv::Vec3f random_vehicle_colour(Stream& r) {
  static const cv::Vec3f base[] = {rgb(20, 20, 22), rgb(200, 200, 205), rgb(120, 122, 128), rgb(30, 40, 90),
                                   rgb(140, 20, 25), rgb(235, 235, 235), rgb(60, 70, 60), rgb(90, 60, 40)};
  return jitter(base[r.randint(0, 8)], r, 0.12f);
}

cv::Vec3f random_clothes(Stream& r) {
  static const cv::Vec3f base[] = {rgb(30, 30, 35), rgb(60, 60, 90), rgb(120, 30, 30), rgb(180, 170, 150),
                                   rgb(40, 80, 50), rgb(200, 200, 210), rgb(90, 60, 40), rgb(50, 70, 130)};
  return jitter(base[r.randint(0, 8)], r, 0.15f);
}

void make_side(Scene& sc, Side& side, float sign, const CityStyle& st, Stream& r) {
  side.x_facade = sign * (sc.road_half + sc.sidewalk + sc.verge) + sc.road_center;
  side.x_back = side.x_facade + sign * static_cast<float>(r.uniform(8, 25));
  float z = static_cast<float>(r.uniform(-10, 0));
  while (z < sc.z_end) {
    Lot lot;
    lot.z0 = z;
    lot.z1 = z + static_cast<float>(r.uniform(8, 28));
    const double u = r.uniform();
    if (u < st.green_prob * 0.6) {
      lot.kind = LotKind::kHedge;
      lot.height = static_cast<float>(r.uniform(0.8, 2.5));
      lot.color = jitter(rgb(60, 95, 40), r, 0.15f);
    } else if (u < st.green_prob * 0.8) {
      lot.kind = LotKind::kOpen;
      lot.color = jitter(rgb(110, 140, 70), r, 0.15f);
    } else if (u < st.green_prob * 0.9 + 0.04) {
      lot.kind = LotKind::kWall;
      lot.height = static_cast<float>(r.uniform(1.0, 3.0));
      lot.color = jitter(rgb(150, 145, 140), r, 0.2f);
    } else if (u < st.green_prob + 0.08) {
      lot.kind = LotKind::kFence;
      lot.height = static_cast<float>(r.uniform(1.0, 2.2));
      lot.color = jitter(rgb(110, 105, 95), r, 0.2f);
    } else {
      lot.kind = LotKind::kBuilding;
      lot.height = static_cast<float>(r.uniform(st.building_h_min, st.building_h_max));
      lot.color = jitter(st.facades[r.randint(0, static_cast<int64_t>(st.facades.size()))], r, 0.1f);
      lot.floor_h = static_cast<float>(r.uniform(2.8, 3.6));
      lot.window_pitch = static_cast<float>(r.uniform(2.0, 3.5));
    }
    lot.grass_verge = r.bernoulli(st.verge_prob) || lot.kind == LotKind::kOpen;
    lot.salt = r.next_u32();
    side.lots.push_back(lot);
    z = lot.z1;
  }
  z = -10;
  while (z < sc.z_end) {
    BackLot b;
    b.z0 = z;
    b.z1 = z + static_cast<float>(r.uniform(10, 40));
    b.vegetation = r.bernoulli(0.55);
    b.height = b.vegetation ? static_cast<float>(r.uniform(6, 16))
                            : static_cast<float>(r.uniform(st.building_h_min, st.building_h_max * 1.4));
    b.color = b.vegetation ? jitter(rgb(70, 100, 45), r, 0.15f)
                           : jitter(st.facades[r.randint(0, static_cast<int64_t>(st.facades.size()))], r, 0.15f);
    b.salt = r.next_u32();
    side.back.push_back(b);
    z = b.z1;
  }
}

Object vehicle(ObjKind k, float x, float z, bool towards, Stream& r) {
  Object o;
  o.kind = k;
  o.x = x;
  o.z = z;
  o.towards_camera = towards;
  switch (k) {
    case ObjKind::kTruck:
      o.w = 2.4f; o.l = static_cast<float>(r.uniform(6, 9)); o.h = static_cast<float>(r.uniform(3.0, 3.8));
      o.color = jitter(rgb(220, 220, 215), r, 0.2f);
      o.color2 = random_vehicle_colour(r);
      break;
    case ObjKind::kBus:
      o.w = 2.55f; o.l = 12; o.h = 3.1f;
      o.color = jitter(r.bernoulli(0.5) ? rgb(230, 200, 40) : rgb(200, 40, 40), r, 0.1f);
      o.color2 = rgb(40, 50, 60);
      break;
    case ObjKind::kTram:
      o.w = 2.4f; o.l = 30; o.h = 3.4f;
      o.color = jitter(r.bernoulli(0.5) ? rgb(235, 235, 230) : rgb(40, 90, 160), r, 0.08f);
      o.color2 = rgb(45, 55, 65);
      break;
    case ObjKind::kMotorcycle: case ObjKind::kRiderMotorcycle:
      o.w = 0.8f; o.l = 2.0f; o.h = 1.1f;
      o.color = random_vehicle_colour(r);
      o.color2 = random_clothes(r);
      break;
    case ObjKind::kBicycle: case ObjKind::kRiderBicycle:
      o.w = 0.6f; o.l = 1.8f; o.h = 1.0f;
      o.color = random_vehicle_colour(r);
      o.color2 = random_clothes(r);
      break;
    default:
      o.w = static_cast<float>(r.uniform(1.7, 1.95)); o.l = static_cast<float>(r.uniform(3.9, 4.9));
      o.h = static_cast<float>(r.uniform(1.4, 1.65));
      o.color = random_vehicle_colour(r);
      break;
  }
  o.salt = r.next_u32();
  return o;
}

}  // namespace

const CityStyle& city_style(std::string_view name) {
  static const auto styles = make_styles();
  auto it = styles.find(name);
  if (it == styles.end()) fail("synth style '{}': unknown city style; use one of the built-in cities", name);
  return it->second;
}

Scene make_scene(uint64_t seed, std::string_view domain, int index, const CityStyle& st, int width, int height) {
  Stream r(seed, "synth/scene/" + std::string(domain), static_cast<uint64_t>(index), 0);
  Scene sc;
  sc.style = st.name;
  sc.cam.width = width;
  sc.cam.height = height;
  sc.cam.f = 2260.f * static_cast<float>(width) / 2048.f;
  sc.cam.cx = width * 0.5f;
  sc.cam.cy = height * static_cast<float>(r.uniform(0.44, 0.5));
  sc.cam.h = static_cast<float>(r.uniform(1.1, 1.3));
  sc.road_half = static_cast<float>(r.uniform(st.road_half_min, st.road_half_max));
  // The camera drives in the right lane: the road centre lies left of it.
  sc.road_center = -sc.road_half * 0.5f + static_cast<float>(r.uniform(-0.4, 0.4));
  sc.sidewalk = static_cast<float>(r.uniform(st.sidewalk_min, st.sidewalk_max));
  sc.verge = r.bernoulli(0.5) ? static_cast<float>(r.uniform(1.0, 4.0)) : 0.f;
  sc.z_end = static_cast<float>(r.uniform(120, 260));
  for (int i = 0; i < 100; ++i) sc.end_heights.push_back(static_cast<float>(r.uniform(4, st.building_h_max * 1.6)));
  sc.sun_side = r.bernoulli(0.5) ? -1 : 1;
  sc.shadow_k = static_cast<float>(r.uniform(0.4, 1.3));
  sc.exposure = static_cast<float>(r.uniform(0.85, 1.12));
  sc.salt = r.next_u32();
  sc.dashed_center = r.bernoulli(0.7);
  sc.zebra = r.bernoulli(0.25);
  sc.zebra_z = static_cast<float>(r.uniform(12, 40));
  make_side(sc, sc.left, -1.f, st, r);
  make_side(sc, sc.right, 1.f, st, r);

  const float rl = sc.road_center - sc.road_half, rr = sc.road_center + sc.road_half;  // road edges
  const float lane_right = (sc.road_center + rr) * 0.5f, lane_left = (rl + sc.road_center) * 0.5f;
  auto& objs = sc.objects;
  // Parked cars along both kerbs (some gaps), ~5 m slots.
  for (float side : {-1.f, 1.f}) {
    const float x = side < 0 ? rl + 1.1f : rr - 1.1f;
    const bool parking = sc.road_half > 4.2f && r.bernoulli(0.8);
    for (float z = static_cast<float>(r.uniform(4, 10)); z < 90; z += static_cast<float>(r.uniform(5.2, 7))) {
      if (!parking || !r.bernoulli(st.car_density)) continue;
      ObjKind k = r.bernoulli(0.06) ? ObjKind::kTruck : ObjKind::kCar;
      objs.push_back(vehicle(k, x + static_cast<float>(r.uniform(-0.15, 0.15)), z, r.bernoulli(0.5), r));
    }
  }
  // Traffic in both lanes.
  const bool force_tram = index % 5 == 1, force_big = index % 3 == 0, force_two_wheel = index % 3 == 1;
  for (int lane = 0; lane < 2; ++lane) {
    const float x = lane == 0 ? lane_right : lane_left;
    const bool towards = lane == 1;
    float z = static_cast<float>(r.uniform(9, 20));
    const int n = static_cast<int>(r.randint(0, 3));
    for (int i = 0; i < n; ++i) {
      const double u = r.uniform();
      ObjKind k = u < 0.08 ? ObjKind::kBus : u < 0.16 ? ObjKind::kTruck : u < 0.22 ? ObjKind::kRiderMotorcycle
                                                                                    : ObjKind::kCar;
      objs.push_back(vehicle(k, x + static_cast<float>(r.uniform(-0.3, 0.3)), z, towards, r));
      z += static_cast<float>(r.uniform(12, 30));
    }
  }
  if (force_big || r.bernoulli(0.1)) {
    const bool bus = r.bernoulli(0.5) || index % 2 == 0;
    objs.push_back(vehicle(bus ? ObjKind::kBus : ObjKind::kTruck, lane_left, static_cast<float>(r.uniform(18, 35)),
                           true, r));
    if (force_big)
      objs.push_back(vehicle(bus ? ObjKind::kTruck : ObjKind::kBus, lane_right,
                             static_cast<float>(r.uniform(30, 50)), false, r));
  }
  if (force_tram || r.bernoulli(st.tram_prob)) {
    objs.push_back(vehicle(ObjKind::kTram, lane_left + 0.2f, static_cast<float>(r.uniform(28, 45)), true, r));
  }
  // Two-wheelers near the kerb on the right, riding away from the camera.
  const int n_bikes = static_cast<int>(r.randint(0, 3)) + (force_two_wheel ? 1 : 0);
  for (int i = 0; i < n_bikes; ++i) {
    const bool moto = (force_two_wheel && i == 0) ? true : r.bernoulli(0.3);
    objs.push_back(vehicle(moto ? ObjKind::kRiderMotorcycle : ObjKind::kRiderBicycle,
                           rr - static_cast<float>(r.uniform(0.5, 1.6)) - (i == 0 && force_two_wheel ? 0 : 0),
                           static_cast<float>(r.uniform(6, 30)), false, r));
  }
  if (force_two_wheel) {
    objs.push_back(vehicle(ObjKind::kRiderBicycle, lane_right + static_cast<float>(r.uniform(-0.5, 0.5)),
                           static_cast<float>(r.uniform(8, 16)), false, r));
  }
  // Sidewalk furniture and people, both sides.
  for (float side : {-1.f, 1.f}) {
    const float kerb = side < 0 ? rl : rr;  // road edge
    const float sw_in = kerb + side * 0.5f, sw_mid = kerb + side * sc.sidewalk * 0.5f;
    // Street lamps every ~25 m at the kerb.
    for (float z = static_cast<float>(r.uniform(5, 20)); z < 150; z += static_cast<float>(r.uniform(22, 32))) {
      Object o;
      o.kind = ObjKind::kStreetLamp;
      o.x = sw_in; o.z = z; o.w = 0.18f; o.h = static_cast<float>(r.uniform(6, 8.5));
      o.l = static_cast<float>(r.uniform(0.8, 1.8)) * -side;  // arm reaches over the road
      o.color = jitter(rgb(90, 95, 100), r, 0.2f);
      o.salt = r.next_u32();
      objs.push_back(o);
    }
    // Signs and traffic lights.
    const int n_signs = static_cast<int>(r.randint(1, 4));
    for (int i = 0; i < n_signs; ++i) {
      Object o;
      o.kind = ObjKind::kSign;
      o.x = sw_in + side * static_cast<float>(r.uniform(0, 0.4)); o.z = static_cast<float>(r.uniform(5, 60));
      o.w = 0.08f; o.h = static_cast<float>(r.uniform(2.2, 3.2));
      o.variant = static_cast<int>(r.randint(0, 4));
      o.color = jitter(rgb(120, 120, 125), r, 0.2f);
      o.salt = r.next_u32();
      objs.push_back(o);
    }
    const bool tl = index % 2 == 0 || r.bernoulli(0.4);
    if (tl) {
      Object o;
      o.kind = ObjKind::kTrafficLight;
      o.x = sw_in; o.z = static_cast<float>(r.uniform(10, 40)); o.w = 0.12f;
      o.h = static_cast<float>(r.uniform(3.2, 4.2));
      o.variant = static_cast<int>(r.randint(0, 3));
      o.color = rgb(50, 52, 55);
      o.salt = r.next_u32();
      objs.push_back(o);
    }
    // Trees on the verge or sidewalk edge.
    const int n_trees = static_cast<int>(r.randint(0, 5));
    for (int i = 0; i < n_trees; ++i) {
      Object o;
      o.kind = ObjKind::kTree;
      o.x = kerb + side * static_cast<float>(r.uniform(sc.sidewalk * 0.6, sc.sidewalk + sc.verge * 0.8 + 0.2));
      o.z = static_cast<float>(r.uniform(6, 90));
      o.w = static_cast<float>(r.uniform(1.5, 3.5));  // crown radius
      o.h = static_cast<float>(r.uniform(2.5, 4.5));  // trunk height
      o.color = jitter(rgb(60, 100, 40), r, 0.2f);
      o.color2 = jitter(rgb(80, 60, 45), r, 0.2f);
      o.salt = r.next_u32();
      objs.push_back(o);
    }
    // Pedestrians.
    const int n_people = static_cast<int>(r.randint(0, 6));
    for (int i = 0; i < n_people; ++i) {
      Object o;
      o.kind = ObjKind::kPerson;
      o.x = sw_mid + side * static_cast<float>(r.uniform(-sc.sidewalk * 0.35, sc.sidewalk * 0.35));
      o.z = static_cast<float>(r.uniform(4, 50));
      o.w = 0.5f; o.h = static_cast<float>(r.uniform(1.55, 1.95));
      o.color = random_clothes(r);
      o.color2 = random_clothes(r);
      o.variant = static_cast<int>(r.randint(0, 2));
      o.salt = r.next_u32();
      objs.push_back(o);
    }
    // Parked bicycles, motorcycles and bins near the façade.
    const int n_clutter = static_cast<int>(r.randint(0, 4));
    for (int i = 0; i < n_clutter; ++i) {
      const double u = r.uniform();
      const float x = kerb + side * static_cast<float>(r.uniform(sc.sidewalk * 0.7, sc.sidewalk * 0.95));
      const float z = static_cast<float>(r.uniform(5, 40));
      if (u < 0.45) {
        objs.push_back(vehicle(ObjKind::kBicycle, x, z, false, r));
      } else if (u < 0.65) {
        objs.push_back(vehicle(ObjKind::kMotorcycle, x, z, false, r));
      } else {
        Object o;
        o.kind = ObjKind::kBin;
        o.x = x; o.z = z; o.w = 0.6f; o.l = 0.6f; o.h = 1.05f;
        o.color = jitter(r.bernoulli(0.5) ? rgb(40, 90, 50) : rgb(70, 70, 75), r, 0.2f);
        o.salt = r.next_u32();
        objs.push_back(o);
      }
    }
  }
  // A crossing pedestrian on the road now and then.
  if (r.bernoulli(0.3)) {
    Object o;
    o.kind = ObjKind::kPerson;
    o.x = static_cast<float>(r.uniform(rl + 0.5, rr - 0.5)); o.z = static_cast<float>(r.uniform(10, 30));
    o.w = 0.5f; o.h = static_cast<float>(r.uniform(1.55, 1.9));
    o.color = random_clothes(r); o.color2 = random_clothes(r); o.variant = 1; o.salt = r.next_u32();
    objs.push_back(o);
  }
  return sc;
}

}  // namespace clcp::synth
