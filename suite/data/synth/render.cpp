// Clear-weather renderer (see render.hpp).
#include "suite/data/synth/render.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "suite/data/synth/noise.hpp"
#include "suite/data/synth/render_detail.hpp"

namespace clcp::synth {
namespace {

// Cityscapes labelIds (mmseg_reference.md §3).
constexpr uint8_t kLRoad = 7, kLSidewalk = 8, kLBuilding = 11, kLWall = 12, kLFence = 13, kLPole = 17,
                  kLTrafficLight = 19, kLSign = 20, kLVegetation = 21, kLTerrain = 22, kLSky = 23, kLPerson = 24,
                  kLRider = 25, kLCar = 26, kLTruck = 27, kLBus = 28, kLTrain = 31, kLMotorcycle = 32,
                  kLBicycle = 33, kLStatic = 4, kLEgo = 1;
constexpr int kShift = 3;  // fillPoly sub-pixel bits
constexpr float kSub = 1 << kShift;

enum Material { kMatte, kGlass, kLeaves, kPaint, kLamp, kBonnet, kMarking };

struct Part {
  std::vector<cv::Point> pts;  // image coordinates × kSub
  int thickness = 0;           // 0: filled polygon; > 0: closed polyline of this width (pixels)
  uint8_t label = 0;
  cv::Vec3f color{};
  Material mat = kMatte;
  float depth = 1;
  uint8_t flags = 0;
  cv::Vec3f emit{};
  float top = 0, bottom = 1;  // image rows of the part (for gradients)
  uint8_t axis = 2;           // the part lies in the world plane {axis = plane} (0 X, 1 Y, 2 Z): for ray hits
  float plane = 0;
};

cv::Vec3f mix(const cv::Vec3f& a, const cv::Vec3f& b, float t) { return a * (1 - t) + b * t; }

class Emitter {
 public:
  Emitter(const Scene& s, const Camera& c, std::vector<Part>& parts) : s_(s), c_(c), parts_(parts) {}

  /// Parts are clipped at this distance in front of the camera (a car driving past parked ones, A2D2 frames).
  static constexpr float kNear = 0.5f;

  /// Image position × kSub of a point given relative to the camera (X − x, Y, Z − z).
  cv::Point to_px(const cv::Vec3f& r) const {
    float u = c_.cx + c_.f * r[0] / r[2], v = c_.cy - c_.fv() * (r[1] - c_.h) / r[2];
    if (c_.centred_polygons) {  // fillPoly fills pixel i when its centre i lies inside: shift by half a pixel
      u -= 0.5f;
      v -= 0.5f;
    }
    return {static_cast<int>(std::lround(std::clamp(u, -1e5f, 1e5f) * kSub)),
            static_cast<int>(std::lround(std::clamp(v, -1e5f, 1e5f) * kSub))};
  }
  /// Projects a world point; the vertex is remembered so that add() can clip its polygon at the near plane.
  cv::Point project(float X, float Y, float Z) const {
    const cv::Vec3f r(X - c_.x, Y, Z - c_.z);
    pending_.push_back(r);
    return to_px(r);
  }
  /// The polygon of camera-relative vertices `v` clipped to Z ≥ kNear (Sutherland–Hodgman), projected.
  std::vector<cv::Point> clip_near(const std::vector<cv::Vec3f>& v) const {
    std::vector<cv::Point> out;
    for (size_t i = 0; i < v.size(); ++i) {
      const cv::Vec3f& a = v[i];
      const cv::Vec3f& b = v[(i + 1) % v.size()];
      const bool ain = a[2] >= kNear, bin = b[2] >= kNear;
      if (ain) out.push_back(to_px(a));
      if (ain != bin) out.push_back(to_px(a + (b - a) * ((kNear - a[2]) / (b[2] - a[2]))));
    }
    return out;
  }
  /// When `pts` are the last projected vertices and some lie nearer than kNear, replaces them by the clipped
  /// polygon; returns false when nothing is left. Forgets the remembered vertices.
  bool clip_pending(std::vector<cv::Point>& pts) const {
    bool keep = true;
    if (!pts.empty() && pending_.size() >= pts.size()) {
      const std::vector<cv::Vec3f> v(pending_.end() - static_cast<std::ptrdiff_t>(pts.size()), pending_.end());
      bool same = true, near = false;
      for (size_t i = 0; i < v.size(); ++i) {
        same = same && to_px(v[i]) == pts[i];
        near = near || v[i][2] < kNear;
      }
      if (same && near) {
        pts = clip_near(v);
        keep = pts.size() >= 3;
      }
    }
    pending_.clear();
    return keep;
  }
  /// depth: world Z of the part (its distance is depth − camera z); the part lies in the plane {axis = plane}, by
  /// default the camera-facing plane Z = depth.
  Part& add(std::vector<cv::Point> pts, uint8_t label, cv::Vec3f color, Material mat, float depth, uint8_t flags = 0,
            uint8_t axis = 2, float plane = std::numeric_limits<float>::quiet_NaN()) {
    Part p;
    const size_t n_in = pts.size();
    const bool keep = clip_pending(pts);
    p.pts = std::move(pts);
    p.label = label;
    p.color = color;
    p.mat = mat;
    p.depth = depth - c_.z;
    if (p.pts.size() != n_in) p.depth = std::max(p.depth, kNear);  // clipped: its visible rest is in front
    if (!keep) p.depth = -1;  // wholly behind the near plane: never drawn
    p.flags = flags;
    p.axis = axis;
    p.plane = std::isnan(plane) ? depth : plane;
    int lo = INT32_MAX, hi = INT32_MIN;
    for (auto& q : p.pts) { lo = std::min(lo, q.y); hi = std::max(hi, q.y); }
    p.top = lo / kSub;
    p.bottom = std::max(hi / kSub, p.top + 1);
    parts_.push_back(std::move(p));
    return parts_.back();
  }
  /// Quad in a plane facing the camera at depth z, local coordinates a (X offset) and b (height).
  Part& bb(float x, float z, std::initializer_list<cv::Vec2f> ab, uint8_t label, cv::Vec3f color, Material mat) {
    std::vector<cv::Point> pts;
    for (auto& q : ab) pts.push_back(project(x + q[0], q[1], z));
    return add(std::move(pts), label, color, mat, z);
  }
  Part& rect(float x, float z, float a0, float a1, float b0, float b1, uint8_t label, cv::Vec3f color,
             Material mat = kMatte) {
    return bb(x, z, {{a0, b0}, {a1, b0}, {a1, b1}, {a0, b1}}, label, color, mat);
  }
  Part& ellipse(float x, float z, float a, float b, float ra, float rb, uint8_t label, cv::Vec3f color,
                Material mat = kMatte, int n = 16) {
    std::vector<cv::Point> pts;
    for (int i = 0; i < n; ++i) {
      const float t = 6.2831853f * i / n;
      pts.push_back(project(x + a + ra * std::cos(t), b + rb * std::sin(t), z));
    }
    return add(std::move(pts), label, color, mat, z);
  }
  /// Axis-aligned box; draws the faces the camera (at X = 0, Y = h) can see: front (−Z), one side, top.
  void box(float x0, float x1, float y0, float y1, float z0, float z1, uint8_t label, cv::Vec3f color,
           Material side_mat = kPaint, Material top_mat = kPaint, uint8_t top_flags = kHorizontal) {
    const float sun_lit = s_.sun_side < 0 ? 1.0f : 0.72f;  // faces towards −X are lit when the sun is left
    const float zm = 0.5f * (z0 + z1);
    if (x0 > c_.x)
      add({project(x0, y0, z0), project(x0, y0, z1), project(x0, y1, z1), project(x0, y1, z0)}, label,
          color * sun_lit, side_mat, zm, 0, 0, x0);
    if (x1 < c_.x)
      add({project(x1, y0, z0), project(x1, y0, z1), project(x1, y1, z1), project(x1, y1, z0)}, label,
          color * (1.72f - sun_lit), side_mat, zm, 0, 0, x1);
    if (y1 < c_.h)
      add({project(x0, y1, z0), project(x1, y1, z0), project(x1, y1, z1), project(x0, y1, z1)}, label,
          color * 1.12f, top_mat, zm, top_flags, 1, y1);
    add({project(x0, y0, z0), project(x1, y0, z0), project(x1, y1, z0), project(x0, y1, z0)}, label, color * 0.9f,
        side_mat, z0);
  }
  void shadow_quad(cv::Mat1f& shadow, float x0, float x1, float z0, float z1, float height) const {
    const float dx = -s_.sun_side * std::min(height * s_.shadow_k, 6.f);
    pending_.clear();
    std::vector<cv::Point> pts;
    if (dx < 0) pts = {project(x0 + dx, 0, z0), project(x1, 0, z0), project(x1, 0, z1), project(x0 + dx, 0, z1)};
    else pts = {project(x0, 0, z0), project(x1 + dx, 0, z0), project(x1 + dx, 0, z1), project(x0, 0, z1)};
    if (!clip_pending(pts)) return;
    cv::fillPoly(shadow, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(0.5), cv::LINE_8, kShift);
  }

  const Scene& s_;
  const Camera& c_;
  std::vector<Part>& parts_;
  mutable std::vector<cv::Vec3f> pending_;  // camera-relative vertices projected since the last add()
};

const cv::Vec3f kSkin{0.78f, 0.6f, 0.48f}, kTyre{0.06f, 0.06f, 0.07f}, kGlassCol{0.13f, 0.15f, 0.18f};

void emit_vehicle(Emitter& e, const Object& o, std::vector<Light>& lights, cv::Mat1f& shadow) {
  const float x0 = o.x - o.w / 2, x1 = o.x + o.w / 2, z0 = o.z - o.l / 2, z1 = o.z + o.l / 2;
  const uint8_t label = o.kind == ObjKind::kTruck ? kLTruck : o.kind == ObjKind::kBus ? kLBus
                        : o.kind == ObjKind::kTram ? kLTrain : kLCar;
  e.shadow_quad(shadow, x0 - 0.1f, x1 + 0.1f, z0, z1, o.h);
  // Wheels peeking below the body (front face plane, just behind it).
  const float wr = o.kind == ObjKind::kCar ? 0.33f : 0.5f;
  e.box(x0 + 0.05f, x0 + 0.3f, 0, wr * 1.6f, z0 + 0.5f, z0 + 0.5f + 2 * wr, label, kTyre, kMatte, kMatte);
  e.box(x1 - 0.3f, x1 - 0.05f, 0, wr * 1.6f, z0 + 0.5f, z0 + 0.5f + 2 * wr, label, kTyre, kMatte, kMatte);
  if (x0 > e.c_.x || x1 < e.c_.x) {  // wheels on the visible side
    const float xs = x0 > e.c_.x ? x0 - 0.01f : x1 + 0.01f;
    for (float zc : {z0 + 0.9f, z1 - 0.9f}) {
      std::vector<cv::Point> pts;
      for (int i = 0; i < 12; ++i) {
        const float t = 6.2831853f * i / 12;
        pts.push_back(e.project(xs, wr + wr * std::sin(t), zc + wr * std::cos(t)));
      }
      e.add(std::move(pts), label, kTyre, kMatte, zc, 0, 0, xs);
    }
  }
  const float yb = wr * 0.9f;
  if (o.kind == ObjKind::kCar) {
    const float yw = o.h * 0.58f;
    e.box(x0, x1, yb, yw, z0, z1, label, o.color, kPaint, kPaint);
    const float cz0 = o.towards_camera ? z0 + o.l * 0.3f : z0 + o.l * 0.22f;
    const float cz1 = o.towards_camera ? z1 - o.l * 0.22f : z1 - o.l * 0.3f;
    e.box(x0 + 0.12f, x1 - 0.12f, yw, o.h, cz0, cz1, label, o.color, kGlass, kPaint);
  } else if (o.kind == ObjKind::kTruck) {
    const float cab = 2.2f;
    const bool cab_front = o.towards_camera;
    const float cz0 = cab_front ? z0 : z1 - cab, cz1 = cab_front ? z0 + cab : z1;
    const float bz0 = cab_front ? z0 + cab + 0.2f : z0, bz1 = cab_front ? z1 : z1 - cab - 0.2f;
    e.box(x0, x1, yb, o.h, bz0, bz1, label, o.color, kMatte, kMatte);
    e.box(x0 + 0.05f, x1 - 0.05f, yb, 2.7f, cz0, cz1, label, o.color2, kPaint, kPaint);
    if (cab_front) e.rect(o.x, z0 - 0.02f, -o.w / 2 + 0.15f, o.w / 2 - 0.15f, 1.6f, 2.5f, label, kGlassCol, kGlass);
  } else {  // bus, tram: body with a window band all around
    e.box(x0, x1, yb, o.h, z0, z1, label, o.color, kPaint, kMatte);
    const float wb0 = o.kind == ObjKind::kTram ? 1.3f : 1.15f;
    if (x0 > e.c_.x || x1 < e.c_.x) {
      const float xs = x0 > e.c_.x ? x0 - 0.02f : x1 + 0.02f;
      for (float zc = z0 + 0.6f; zc + 1.6f < z1; zc += 2.0f)
        e.add({e.project(xs, wb0, zc), e.project(xs, wb0, zc + 1.6f), e.project(xs, o.h - 0.45f, zc + 1.6f),
               e.project(xs, o.h - 0.45f, zc)}, label, kGlassCol, kGlass, zc + 0.8f, 0, 0, xs);
    }
    e.rect(o.x, z0 - 0.02f, -o.w / 2 + 0.12f, o.w / 2 - 0.12f, wb0, o.h - 0.35f, label, kGlassCol, kGlass);
    if (o.kind == ObjKind::kTram)  // pantograph
      e.bb(o.x, o.z, {{-0.6f, o.h}, {0.6f, o.h + 1.1f}, {0.5f, o.h + 1.1f}, {-0.7f, o.h}}, label, {0.2f, 0.2f, 0.2f},
           kMatte);
  }
  // Head- or tail-lights on the face the camera sees.
  const float ly = o.kind == ObjKind::kCar ? o.h * 0.45f : 0.9f;
  for (float sgn : {-1.f, 1.f}) {
    const float a0 = sgn < 0 ? -o.w / 2 + 0.1f : o.w / 2 - 0.35f;
    const cv::Vec3f col = o.towards_camera ? cv::Vec3f{0.95f, 0.95f, 0.85f} : cv::Vec3f{0.75f, 0.08f, 0.06f};
    Part& p = e.rect(o.x, z0 - 0.03f, a0, a0 + 0.25f, ly, ly + 0.14f, label, col, kLamp);
    p.emit = o.towards_camera ? cv::Vec3f{3.f, 3.f, 2.6f} : cv::Vec3f{2.0f, 0.15f, 0.1f};
    Light l;
    l.pos = {o.x + a0 + 0.12f, ly, z0 - 0.1f};
    l.color = o.towards_camera ? cv::Vec3f{1.f, 0.95f, 0.85f} : cv::Vec3f{1.f, 0.1f, 0.05f};
    l.intensity = o.towards_camera ? 0.6f : 0.1f;
    l.radius = o.towards_camera ? 6.f : 2.f;
    l.headlight = o.towards_camera;
    lights.push_back(l);
  }
}

void emit_person(Emitter& e, const Object& o, float x, float base, float hp, bool seated) {
  const float s = hp / 1.75f;
  const float hr = 0.11f * s;
  if (!seated) {
    const float spread = o.variant ? 0.12f * s : 0.03f;
    e.bb(x, o.z, {{-0.15f * s - spread, base}, {-0.03f * s - spread * 0.3f, base}, {0, base + 0.9f * s},
                  {-0.16f * s, base + 0.9f * s}}, kLPerson, o.color2, kMatte);
    e.bb(x, o.z, {{0.03f * s + spread * 0.3f, base}, {0.15f * s + spread, base}, {0.16f * s, base + 0.9f * s},
                  {0, base + 0.9f * s}}, kLPerson, o.color2 * 0.85f, kMatte);
  }
  const uint8_t label = seated ? kLRider : kLPerson;
  const float tb = seated ? base : base + 0.88f * s;
  e.bb(x, o.z, {{-0.17f * s, tb}, {0.17f * s, tb}, {0.21f * s, base + 1.45f * s}, {-0.21f * s, base + 1.45f * s}},
       label, o.color, kMatte);
  e.rect(x, o.z, -0.27f * s, -0.19f * s, base + 0.85f * s, base + 1.42f * s, label, o.color * 0.85f);
  e.rect(x, o.z, 0.19f * s, 0.27f * s, base + 0.85f * s, base + 1.42f * s, label, o.color * 0.85f);
  e.rect(x, o.z, -0.05f * s, 0.05f * s, base + 1.42f * s, base + 1.52f * s, label, kSkin);
  e.ellipse(x, o.z, 0, base + hp - hr, hr * 0.85f, hr, label,
            seated && o.kind == ObjKind::kRiderMotorcycle ? o.color * 0.6f : kSkin * 0.9f, kMatte, 10);
}

void emit_two_wheeler(Emitter& e, const Object& o, std::vector<Light>& lights, cv::Mat1f& shadow) {
  const bool moto = o.kind == ObjKind::kRiderMotorcycle || o.kind == ObjKind::kMotorcycle;
  const bool rider = o.kind == ObjKind::kRiderBicycle || o.kind == ObjKind::kRiderMotorcycle;
  const uint8_t label = moto ? kLMotorcycle : kLBicycle;
  e.shadow_quad(shadow, o.x - 0.3f, o.x + 0.3f, o.z - 0.8f, o.z + 0.8f, 1.5f);
  if (rider) {  // seen from behind, riding away
    const float ww = moto ? 0.14f : 0.05f;
    e.rect(o.x, o.z, -ww, ww, 0, moto ? 0.62f : 0.68f, label, kTyre);
    if (moto) {
      e.bb(o.x, o.z, {{-0.3f, 0.35f}, {0.3f, 0.35f}, {0.25f, 0.95f}, {-0.25f, 0.95f}}, label, o.color, kPaint);
      Part& p = e.rect(o.x, o.z - 0.02f, -0.08f, 0.08f, 0.7f, 0.8f, label, {0.8f, 0.1f, 0.08f}, kLamp);
      p.emit = {2.f, 0.15f, 0.1f};
      lights.push_back({{o.x, 0.75f, o.z - 0.1f}, {1.f, 0.1f, 0.05f}, 0.15f, 2.f, false});
    } else {
      e.rect(o.x, o.z, -0.04f, 0.04f, 0.3f, 0.95f, label, o.color);
    }
    e.rect(o.x, o.z + 0.3f, -0.3f, 0.3f, 0.98f, 1.03f, label, o.color * 0.6f);
    // Rider: legs astride, then torso, arms, head.
    emit_person(e, o, o.x, 0.2f, 1.55f, true);
    e.rect(o.x, o.z, -0.2f, -0.08f, 0.25f, 0.95f, kLRider, o.color2 * 0.8f);
    e.rect(o.x, o.z, 0.08f, 0.2f, 0.25f, 0.95f, kLRider, o.color2 * 0.8f);
    return;
  }
  // Parked: side view (wheels as rings / discs, frame as thick strokes).
  const float r = moto ? 0.3f : 0.34f;
  const int th = std::max(1, static_cast<int>(std::lround(e.c_.f * 0.05f / std::max(o.z - e.c_.z, 0.5f))));
  for (float a : {-0.55f, 0.55f}) {
    Part& w = e.ellipse(o.x, o.z, a, r, r, r, label, kTyre, kMatte, 14);
    if (!moto) w.thickness = th;
  }
  if (moto) {
    e.bb(o.x, o.z, {{-0.5f, 0.35f}, {0.45f, 0.3f}, {0.55f, 0.75f}, {0.1f, 0.95f}, {-0.45f, 0.8f}}, label, o.color,
         kPaint);
  } else {
    Part& f = e.bb(o.x, o.z, {{-0.55f, r}, {-0.05f, r}, {0.45f, 0.85f}, {-0.15f, 0.8f}}, label, o.color, kPaint);
    f.thickness = th;
    e.rect(o.x, o.z, -0.25f, -0.05f, 0.9f, 0.95f, label, kTyre);
  }
}

void emit_object(Emitter& e, const Object& o, std::vector<Light>& lights, cv::Mat1f& shadow) {
  switch (o.kind) {
    case ObjKind::kCar: case ObjKind::kTruck: case ObjKind::kBus: case ObjKind::kTram:
      emit_vehicle(e, o, lights, shadow);
      return;
    case ObjKind::kPerson:
      e.shadow_quad(shadow, o.x - 0.25f, o.x + 0.25f, o.z - 0.2f, o.z + 0.2f, o.h);
      emit_person(e, o, o.x, 0, o.h, false);
      return;
    case ObjKind::kRiderBicycle: case ObjKind::kRiderMotorcycle: case ObjKind::kBicycle: case ObjKind::kMotorcycle:
      emit_two_wheeler(e, o, lights, shadow);
      return;
    case ObjKind::kStreetLamp: {
      const float hw = o.w / 2;
      e.rect(o.x, o.z, -hw, hw, 0, o.h, kLPole, o.color);
      e.bb(o.x, o.z, {{0, o.h - 0.25f}, {o.l, o.h - 0.05f}, {o.l, o.h + 0.03f}, {0, o.h - 0.12f}}, kLPole, o.color,
           kMatte);
      Part& head = e.rect(o.x, o.z, o.l - 0.3f, o.l + 0.3f, o.h - 0.2f, o.h + 0.02f, kLPole, {0.75f, 0.75f, 0.7f},
                          kLamp);
      head.emit = {3.5f, 3.0f, 2.2f};
      lights.push_back({{o.x + o.l, o.h - 0.2f, o.z}, {1.f, 0.85f, 0.6f}, 0.7f, 3.5f, false});
      return;
    }
    case ObjKind::kSign: {
      e.rect(o.x, o.z, -o.w / 2, o.w / 2, 0, o.h - 0.3f, kLPole, o.color);
      const float c = o.h - 0.25f, r = 0.3f;
      const cv::Vec3f red{0.75f, 0.1f, 0.1f}, white{0.9f, 0.9f, 0.88f}, blue{0.1f, 0.25f, 0.65f};
      switch (o.variant) {
        case 0:
          e.ellipse(o.x, o.z, 0, c, r, r, kLSign, red);
          e.ellipse(o.x, o.z, 0, c, r * 0.75f, r * 0.75f, kLSign, white);
          break;
        case 1:
          e.bb(o.x, o.z, {{-r, c - r * 0.8f}, {r, c - r * 0.8f}, {0, c + r}}, kLSign, red, kMatte);
          e.bb(o.x, o.z, {{-r * 0.6f, c - r * 0.6f}, {r * 0.6f, c - r * 0.6f}, {0, c + r * 0.5f}}, kLSign, white,
               kMatte);
          break;
        case 2:
          e.rect(o.x, o.z, -r, r, c - r * 0.8f, c + r * 0.8f, kLSign, blue);
          e.rect(o.x, o.z, -r * 0.15f, r * 0.15f, c - r * 0.5f, c + r * 0.5f, kLSign, white);
          break;
        default:
          e.ellipse(o.x, o.z, 0, c, r, r, kLSign, red, kMatte, 8);
          e.rect(o.x, o.z, -r * 0.6f, r * 0.6f, c - r * 0.12f, c + r * 0.12f, kLSign, white);
          break;
      }
      return;
    }
    case ObjKind::kTrafficLight: {
      e.rect(o.x, o.z, -o.w / 2, o.w / 2, 0, o.h - 0.9f, kLPole, o.color * 1.5f);
      e.rect(o.x, o.z, -0.17f, 0.17f, o.h - 0.95f, o.h, kLTrafficLight, o.color);
      const cv::Vec3f on[3] = {{1.f, 0.15f, 0.1f}, {1.f, 0.7f, 0.1f}, {0.2f, 0.95f, 0.45f}};
      for (int i = 0; i < 3; ++i) {
        const bool lit = i == o.variant;
        Part& p = e.ellipse(o.x, o.z - 0.02f, 0, o.h - 0.17f - 0.29f * i, 0.1f, 0.1f, kLTrafficLight,
                            lit ? on[i] : on[i] * 0.15f, lit ? kLamp : kMatte, 10);
        if (lit) {
          p.emit = on[i] * 3.f;
          lights.push_back({{o.x, o.h - 0.17f - 0.29f * i, o.z - 0.2f}, on[i], 0.3f, 2.f, false});
        }
      }
      return;
    }
    case ObjKind::kTree: {
      e.shadow_quad(shadow, o.x - o.w * 0.7f, o.x + o.w * 0.7f, o.z - o.w * 0.5f, o.z + o.w * 0.5f, o.h);
      e.rect(o.x, o.z, -0.15f, 0.15f, 0, o.h + o.w * 0.5f, kLVegetation, o.color2);
      std::vector<cv::Point> pts;
      const int n = 28;
      for (int i = 0; i < n; ++i) {
        const float t = 6.2831853f * i / n;
        const float rr = o.w * (0.78f + 0.4f * hash01(i, 7, o.salt));
        pts.push_back(e.project(o.x + rr * std::cos(t), o.h + o.w * 0.85f + 0.9f * rr * std::sin(t), o.z));
      }
      e.add(std::move(pts), kLVegetation, o.color, kLeaves, o.z, kFoliage);
      return;
    }
    case ObjKind::kBin:
      e.box(o.x - o.w / 2, o.x + o.w / 2, 0, o.h, o.z - o.l / 2, o.z + o.l / 2, kLStatic, o.color, kMatte, kMatte);
      return;
  }
}

// ---- the static street, ray-cast per pixel -------------------------------------------------------------------
struct Hit {
  uint8_t label;
  cv::Vec3f color;
  float depth;
  uint8_t flags;
  cv::Vec3f emit{};
  Material mat = kMatte;  // for lidar reflectance: kMarking (road paint), kGlass (windows), else kMatte
  int axis = -1;          // plane hit (0 façade/background X, 1 ground Y, 2 skyline Z); −1 sky
};

template <typename L>
const L* find_lot(const std::vector<L>& lots, float z) {
  for (const auto& l : lots)
    if (z >= l.z0 && z < l.z1) return &l;
  return nullptr;
}

cv::Vec3f foliage(const cv::Vec3f& base, float a, float b, uint32_t salt) {
  const float n = fbm(a * 3.f, b * 3.f, salt, 3);
  const float fine = hash01(static_cast<int>(a * 14), static_cast<int>(b * 14), salt ^ 0x5bd1u);
  return base * (0.55f + 0.6f * n + 0.25f * (fine - 0.5f));
}

Hit shade_ground(const Scene& s, float X, float Z, float& shadow_out) {
  const float rel = X - s.road_center;
  const float d = std::abs(rel) - s.road_half;
  const Side& side = rel < 0 ? s.left : s.right;
  const uint32_t salt = s.salt;
  shadow_out = 1.f;
  // Shadows cast by the façades on the sun's side.
  const Side& sun = s.sun_side < 0 ? s.left : s.right;
  if (const Lot* lot = find_lot(sun.lots, Z)) {
    const float dist = std::abs(X - sun.x_facade);
    const float hgt = lot->kind == LotKind::kOpen ? 0.f : lot->height;
    if ((X - sun.x_facade) * s.sun_side <= 0 && dist < hgt * s.shadow_k) shadow_out = 0.55f;
  }
  if (d < 0) {  // road
    const float n = fbm(X * 1.3f, Z * 0.6f, salt, 3);
    const float g = hash01(static_cast<int>(X * 40), static_cast<int>(Z * 25), salt);
    cv::Vec3f c = cv::Vec3f(0.30f, 0.30f, 0.32f) * (0.78f + 0.35f * n) + cv::Vec3f::all(0.05f * (g - 0.5f));
    const float ar = std::abs(rel);
    bool mark = (ar > s.road_half - 0.45f && ar < s.road_half - 0.3f);
    if (s.dashed_center) mark |= ar < 0.07f && std::fmod(Z + 100.f, 9.f) < 3.f;
    else mark |= (ar > 0.05f && ar < 0.17f);
    if (s.zebra && Z > s.zebra_z && Z < s.zebra_z + 4.f && std::fmod(X + 100.f, 1.0f) < 0.5f) mark = true;
    if (mark) c = cv::Vec3f(0.82f, 0.82f, 0.8f) * (0.85f + 0.2f * n);
    return {kLRoad, c, Z, static_cast<uint8_t>(kHorizontal | kRoadSurface | kGround), {}, mark ? kMarking : kMatte};
  }
  const float before_facade = s.sidewalk + s.verge;
  const Lot* lot = find_lot(side.lots, Z);
  const bool paved = d < s.sidewalk || (d < before_facade && lot && !lot->grass_verge);
  if (paved) {
    if (d < 0.18f) return {kLSidewalk, cv::Vec3f(0.68f, 0.67f, 0.65f), Z, kHorizontal | kGround};
    const float tx = X / 0.4f, tz = Z / 0.4f;
    const float t = hash01(static_cast<int>(std::floor(tx)), static_cast<int>(std::floor(tz)), salt ^ 0x77u);
    float c = 0.5f + 0.12f * t;
    if (tx - std::floor(tx) < 0.07f || tz - std::floor(tz) < 0.07f) c *= 0.75f;
    const float n = fbm(X * 0.5f, Z * 0.5f, salt ^ 0x91u, 2);
    return {kLSidewalk, cv::Vec3f(c * 1.02f, c, c * 0.96f) * (0.85f + 0.3f * n), Z, kHorizontal | kGround};
  }
  const cv::Vec3f grass = lot ? lot->color : cv::Vec3f(0.43f, 0.55f, 0.27f);
  const float n = fbm(X * 0.8f, Z * 0.8f, salt ^ 0x13u, 3);
  const float fine = hash01(static_cast<int>(X * 30), static_cast<int>(Z * 30), salt ^ 0x14u);
  cv::Vec3f c = grass * (0.7f + 0.5f * n + 0.2f * (fine - 0.5f));
  if (n < 0.35f) c = mix(c, cv::Vec3f(0.45f, 0.38f, 0.28f), 0.6f);  // bare earth
  return {kLTerrain, c, Z, kHorizontal | kGround};
}

Hit shade_facade(const Scene& s, const Lot& lot, float Y, float Z, bool left) {
  // Sun from the left lights façades facing −X, i.e. the right-hand ones.
  const float lit = (left == (s.sun_side > 0)) ? 1.05f : 0.72f;
  switch (lot.kind) {
    case LotKind::kHedge:
      return {kLVegetation, foliage(lot.color, Z, Y, lot.salt) * lit, Z, kFoliage};
    case LotKind::kWall: {
      const float bz = std::floor(Z / 0.6f + (static_cast<int>(Y / 0.3f) % 2) * 0.5f);
      float c = 0.9f + 0.15f * hash01(static_cast<int>(bz), static_cast<int>(Y / 0.3f), lot.salt);
      if (std::fmod(Y, 0.3f) < 0.03f) c *= 0.7f;
      if (Y > lot.height - 0.12f) c *= 1.15f;
      return {kLWall, lot.color * c * lit, Z, 0};
    }
    case LotKind::kFence: {
      const bool slat = std::fmod(Z + 100.f, 0.16f) < 0.09f || Y > lot.height - 0.1f || std::abs(Y - 0.3f) < 0.05f;
      return {kLFence, slat ? lot.color * lit : lot.color * 0.45f * lit, Z, 0};
    }
    default: break;
  }
  cv::Vec3f c = lot.color * (0.88f + 0.24f * fbm(Z * 0.8f, Y * 0.8f, lot.salt, 3));
  cv::Vec3f emit{};
  if (Y > lot.height - 0.5f) c *= 0.75f;  // cornice
  const int fl = static_cast<int>(Y / lot.floor_h);
  const float fy = std::fmod(Y, lot.floor_h) / lot.floor_h;
  const float zz = Z - lot.z0;
  const int wi = static_cast<int>(zz / lot.window_pitch);
  const float fz = std::fmod(zz, lot.window_pitch) / lot.window_pitch;
  bool window = false;
  if (fl == 0) window = Y > 0.3f && Y < 2.6f && fz > 0.08f && fz < 0.92f && (wi % 3 != 1 || fz < 0.5f);
  else if (Y < lot.height - 0.8f) window = fy > 0.3f && fy < 0.8f && fz > 0.25f && fz < 0.75f;
  if (window) {
    const float h = hash01(wi, fl, lot.salt);
    c = kGlassCol * (0.8f + 0.6f * h) + cv::Vec3f(0.1f, 0.12f, 0.15f) * fy;
    if (h > 0.62f) emit = cv::Vec3f(1.0f, 0.8f, 0.5f) * (0.6f + h);
  } else if (fl > 0 && fy > 0.25f && fy < 0.85f && fz > 0.2f && fz < 0.8f) {
    c *= 0.8f;  // window frame
  }
  return {kLBuilding, c * lit, Z, 0, emit, window ? kGlass : kMatte};
}

Hit shade_background(bool vegetation, const cv::Vec3f& color, float Y, float Z, uint32_t salt) {
  if (vegetation) return {kLVegetation, foliage(color, Z * 0.5f, Y * 0.5f, salt) * 0.85f, Z, kFoliage};
  cv::Vec3f c = color * (0.85f + 0.2f * fbm(Z * 0.3f, Y * 0.3f, salt, 2));
  if (std::fmod(Y, 3.2f) > 1.1f && std::fmod(Z + 100.f, 2.8f) < 1.2f) c *= 0.55f;
  return {kLBuilding, c * 0.92f, Z, 0};
}

Hit shade_sky(const Scene& s, const CityStyle& st, float dx, float dy) {
  const float t = std::clamp(dy * 2.2f, 0.f, 1.f);
  cv::Vec3f c = mix(st.sky_horizon, st.sky_top, std::sqrt(t));
  const float n = fbm(dx * 3.f / (dy + 0.25f), 5.f / (dy + 0.25f), s.salt ^ 0xC10Du, 4);
  const float cloud = std::clamp((n - (1.f - st.cloudiness)) * 3.f, 0.f, 1.f);
  c = mix(c, cv::Vec3f(0.92f, 0.92f, 0.93f) * (0.85f + 0.15f * n), cloud);
  return {kLSky, c, kSkyDepth, kSkyPixel};
}

// The ray (dx, dy, 1) per unit of depth from the camera at (c.x, c.h, c.z); Hit.depth is the depth (Z − c.z).
Hit cast(const Scene& s, const CityStyle& st, const Camera& cam, float dx, float dy) {
  const float h = cam.h;
  const float zg = dy < 0 ? h / -dy : kSkyDepth * 10;
  const bool has_side = std::abs(dx) > 1e-6f;
  const bool left = dx < 0;
  const Side& side = left ? s.left : s.right;
  const float zf = has_side ? (side.x_facade - cam.x) / dx : kSkyDepth * 10;
  const float zb = has_side ? (side.x_back - cam.x) / dx : kSkyDepth * 10;
  const float ze = s.z_end - cam.z;
  if (zf < zg && zf < ze) {
    if (const Lot* lot = find_lot(side.lots, cam.z + zf); lot && lot->kind != LotKind::kOpen) {
      const float Y = h + dy * zf;
      float top = lot->height;
      if (lot->kind == LotKind::kHedge) top += 0.35f * (fbm((cam.z + zf) * 1.5f, 0.f, lot->salt, 2) - 0.5f);
      if (Y < top) {
        Hit hit = shade_facade(s, *lot, Y, cam.z + zf, left);
        hit.depth = zf;
        hit.axis = 0;
        return hit;
      }
    }
  }
  if (zb < zg && zb < ze) {
    if (const BackLot* b = find_lot(side.back, cam.z + zb)) {
      const float Y = h + dy * zb;
      float top = b->height;
      if (b->vegetation) top += 4.f * (fbm((cam.z + zb) * 0.35f, 0.f, b->salt, 3) - 0.5f);
      if (Y < top) {
        Hit hit = shade_background(b->vegetation, b->color, Y, cam.z + zb, b->salt);
        hit.depth = zb;
        hit.axis = 0;
        return hit;
      }
    }
  }
  if (ze < zg) {
    const float X = cam.x + dx * ze, Y = h + dy * ze;
    const int bin = std::clamp(static_cast<int>((X + 400.f) / 8.f), 0, static_cast<int>(s.end_heights.size()) - 1);
    const bool veg = hash01(bin, 3, s.salt) < 0.4f;
    float top = s.end_heights[bin];
    if (veg) top = 6.f + 6.f * fbm(X * 0.2f, 1.f, s.salt, 3);
    if (Y < top) {
      const cv::Vec3f col = veg ? cv::Vec3f(0.3f, 0.4f, 0.22f) : st.facades[bin % st.facades.size()];
      Hit hit = shade_background(veg, mix(col, st.sky_horizon, 0.35f), Y, X, s.salt ^ 0xE0u);
      hit.depth = ze;
      hit.axis = 2;
      return hit;
    }
  }
  if (dy < 0) {
    float shadow = 1.f;
    Hit g = shade_ground(s, cam.x + dx * zg, cam.z + zg, shadow);
    g.color *= shadow;
    g.depth = zg;
    g.axis = 1;
    return g;
  }
  return shade_sky(s, st, dx, dy);
}

void shade_part_pixel(const Part& p, int u, int v, uint32_t salt, cv::Vec3f& out) {
  const float rel = std::clamp((v - p.top) / (p.bottom - p.top), 0.f, 1.f);
  const float n = value_noise(u * 0.12f, v * 0.12f, salt);
  const float g = hash01(u, v, salt ^ 0xA5u) - 0.5f;
  switch (p.mat) {
    case kGlass:
      out = p.color * (0.8f + 0.4f * n) + cv::Vec3f(0.2f, 0.22f, 0.26f) * (1.f - rel) * (0.6f + 0.8f * n);
      break;
    case kLeaves: {
      const float f = hash01(u / 2, v / 2, salt ^ 0x3Cu);
      out = p.color * (0.5f + 0.7f * fbm(u * 0.25f, v * 0.25f, salt, 2) + 0.35f * (f - 0.5f));
      break;
    }
    case kPaint:
      out = p.color * (0.85f + 0.1f * n) + cv::Vec3f::all(0.18f * (1.f - rel) * (1.f - rel));
      break;
    case kLamp:
      out = p.color;
      break;
    case kBonnet:
      out = p.color + cv::Vec3f(0.25f, 0.27f, 0.3f) * std::pow(1.f - rel, 4.f) * (0.7f + 0.3f * n);
      break;
    default:
      out = p.color * (0.9f + 0.2f * n);
      break;
  }
  out += cv::Vec3f::all(0.035f * g);
}

}  // namespace

Frame render(const Scene& s) {
  const CityStyle& st = city_style(s.style);
  const Camera& c = s.cam;
  const int W = c.width, H = c.height;
  Frame fr;
  fr.cam = c;
  fr.salt = s.salt;
  fr.color.create(H, W);
  fr.emission = cv::Mat3f(H, W, cv::Vec3f(0, 0, 0));
  fr.depth.create(H, W);
  fr.label_id.create(H, W);
  fr.flags.create(H, W);
  // 1. Static street.
  for (int v = 0; v < H; ++v) {
    const float dy = (c.cy - (v + 0.5f)) / c.fv();
    auto* col = fr.color.ptr<cv::Vec3f>(v);
    auto* em = fr.emission.ptr<cv::Vec3f>(v);
    auto* dep = fr.depth.ptr<float>(v);
    auto* lab = fr.label_id.ptr<uint8_t>(v);
    auto* fl = fr.flags.ptr<uint8_t>(v);
    for (int u = 0; u < W; ++u) {
      const float dx = ((u + 0.5f) - c.cx) / c.f;
      const Hit hit = cast(s, st, c, dx, dy);
      col[u] = hit.color;
      em[u] = hit.emit;
      dep[u] = std::min(hit.depth, kSkyDepth);
      lab[u] = hit.label;
      fl[u] = hit.flags;
    }
  }
  // 2. Objects, back to front, into an id buffer; object shadows into a multiplier on the ground.
  std::vector<int> order(s.objects.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s.objects[a].z > s.objects[b].z; });
  std::vector<Part> parts;
  cv::Mat1f shadow(H, W, 1.f);
  Emitter e(s, c, parts);
  for (int i : order) emit_object(e, s.objects[i], fr.lights, shadow);
  // The ego-vehicle bonnet (labelId 1), nearest of all.
  if (c.bonnet) {
    std::vector<cv::Point> pts;
    const float bc = 0.11f * H, bs = 0.05f * H;
    for (int k = 0; k <= 16; ++k) {
      const float u = W * k / 16.f, t = (u - c.cx) / c.cx;
      pts.push_back({static_cast<int>(std::lround(u * kSub)),
                     static_cast<int>(std::lround((H - (bs + (bc - bs) * (1 - t * t))) * kSub))});
    }
    pts.push_back({static_cast<int>((W + 2) * kSub), static_cast<int>((H + 2) * kSub)});
    pts.push_back({static_cast<int>(-2 * kSub), static_cast<int>((H + 2) * kSub)});
    e.add(std::move(pts), kLEgo, {0.07f, 0.075f, 0.085f}, kBonnet, c.z + 1.5f);
  }
  cv::Mat1i ids(H, W, -1);
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    if (p.depth < 0.5f) continue;
    if (p.thickness > 0)
      cv::polylines(ids, std::vector<std::vector<cv::Point>>{p.pts}, true, cv::Scalar(static_cast<int>(i)),
                    p.thickness, cv::LINE_8, kShift);
    else
      cv::fillPoly(ids, std::vector<std::vector<cv::Point>>{p.pts}, cv::Scalar(static_cast<int>(i)), cv::LINE_8,
                   kShift);
  }
  for (int v = 0; v < H; ++v) {
    const int* id = ids.ptr<int>(v);
    const float* sh = shadow.ptr<float>(v);
    auto* col = fr.color.ptr<cv::Vec3f>(v);
    auto* em = fr.emission.ptr<cv::Vec3f>(v);
    auto* dep = fr.depth.ptr<float>(v);
    auto* lab = fr.label_id.ptr<uint8_t>(v);
    auto* fl = fr.flags.ptr<uint8_t>(v);
    for (int u = 0; u < W; ++u) {
      if (id[u] < 0) {
        if ((fl[u] & kGround) && sh[u] < 1.f) col[u] *= sh[u];
        continue;
      }
      const Part& p = parts[static_cast<size_t>(id[u])];
      shade_part_pixel(p, u, v, s.salt + static_cast<uint32_t>(id[u]) * 7919u, col[u]);
      em[u] = p.emit;
      dep[u] = p.depth;
      lab[u] = p.label;
      fl[u] = p.flags;
    }
  }
  fr.color *= s.exposure;
  return fr;
}

namespace detail {

namespace {
uint8_t material_of(Material m) {
  switch (m) {
    case kGlass: return kMatGlass;
    case kLeaves: return kMatLeaves;
    case kPaint: return kMatPaint;
    case kLamp: return kMatLamp;
    case kMarking: return kMatMarking;
    default: return kMatMatte;
  }
}
}  // namespace

std::vector<ObjectPart> object_parts(const Scene& s, const Camera& c) {
  static_assert(kPartShift == kShift);
  std::vector<int> order(s.objects.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s.objects[a].z > s.objects[b].z; });
  std::vector<Part> parts;
  std::vector<Light> lights;
  cv::Mat1f shadow(1, 1, 1.f);
  Emitter e(s, c, parts);
  for (int i : order) emit_object(e, s.objects[i], lights, shadow);
  std::vector<ObjectPart> out;
  out.reserve(parts.size());
  for (Part& p : parts) {
    ObjectPart o;
    o.pts = std::move(p.pts);
    o.thickness = p.thickness;
    o.label_id = p.label;
    o.material = material_of(p.mat);
    o.flags = p.flags;
    o.axis = p.axis;
    o.plane = p.plane;
    o.depth = p.depth;
    out.push_back(std::move(o));
  }
  return out;
}

StaticHit cast_static(const Scene& s, const Camera& cam, float dx, float dy) {
  const Hit h = cast(s, city_style(s.style), cam, dx, dy);
  StaticHit r;
  r.hit = h.axis >= 0;
  r.depth = h.depth;
  r.label_id = h.label;
  r.material = material_of(h.mat);
  r.flags = h.flags;
  r.axis = h.axis;
  return r;
}

}  // namespace detail

}  // namespace clcp::synth
