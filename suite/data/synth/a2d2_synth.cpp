#include "suite/data/synth/a2d2_synth.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/a2d2_labels.hpp"
#include "suite/data/synth/a2d2_rig.hpp"
#include "suite/data/synth/render.hpp"
#include "suite/data/synth/scene.hpp"

namespace clcp::synth {

namespace {

const std::array<const char*, 5> kStyles = {"aachen", "bochum", "bremen", "frankfurt", "lindau"};
constexpr float kCorridor = 1.3f;  // half-width of the car's path, m (A2D2 ego y-range ±1.25 m)

bool is_road_user(ObjKind k) {
  return k == ObjKind::kCar || k == ObjKind::kTruck || k == ObjKind::kBus || k == ObjKind::kTram ||
         k == ObjKind::kRiderBicycle || k == ObjKind::kRiderMotorcycle;
}

// The scene as seen at frame `frame`: moving road users advanced, the car's path cleared (see the header).
Scene drive_scene(Scene sc, int frame, const A2D2SynthOptions& o) {
  const float drive = static_cast<float>(o.step_m * (o.frames - 1));
  const float d = static_cast<float>(o.step_m * frame);
  const float rl = sc.road_center - sc.road_half, rr = sc.road_center + sc.road_half;
  std::vector<Object> kept;
  for (const Object& ob : sc.objects) {
    const bool parked = (ob.kind == ObjKind::kCar || ob.kind == ObjKind::kTruck) &&
                        (std::abs(ob.x - (rl + 1.1f)) <= 0.35f || std::abs(ob.x - (rr - 1.1f)) <= 0.35f);
    const bool moving = is_road_user(ob.kind) && !parked;
    const bool same_direction = moving && !ob.towards_camera;
    const bool in_path = std::abs(ob.x) - ob.w * 0.5f < kCorridor;
    const bool along_drive = ob.z + ob.l * 0.5f > -3.f && ob.z - ob.l * 0.5f < drive + 8.f;
    if (in_path && !same_direction && (moving || along_drive)) continue;  // would hit or cross the car
    Object o2 = ob;
    if (same_direction) o2.z += d;
    else if (moving) o2.z -= d;
    kept.push_back(o2);
  }
  sc.objects = std::move(kept);
  return sc;
}

}  // namespace

void validate(const A2D2SynthOptions& o) {
  if (o.scenes < 0 || o.scenes > 840) fail("--a2d2-scenes {}: expected 0..840 (0 writes no A2D2 data); choose another count", o.scenes);
  if (o.frames < 1 || o.frames > 100000) fail("--a2d2-frames {}: expected 1..100000 frames per scene; choose another count", o.frames);
  if (!(o.scale >= 0.1 && o.scale <= 1.0)) fail("--a2d2-scale {}: expected 0.1..1 of A2D2's 1920x1208; choose another scale", o.scale);
  if (!(o.step_m > 0 && o.step_m <= 20)) fail("a2d2 step {}: expected 0 < step ≤ 20 m between frames", o.step_m);
  double sum = 0;
  for (double s : o.condition_share) {
    if (!(s >= 0)) fail("--a2d2-conditions: shares must be ≥ 0; fix the condition shares");
    sum += s;
  }
  if (!(sum > 0)) fail("--a2d2-conditions: the shares sum to 0; give at least one condition a positive share");
}

std::vector<Condition> a2d2_conditions(const A2D2SynthOptions& o, uint64_t seed) {
  const int total = o.scenes * o.frames;
  double sum = 0;
  for (double s : o.condition_share) sum += s;
  std::array<int, 5> n{};
  std::array<double, 5> rem{};
  int given = 0;
  for (size_t c = 0; c < 5; ++c) {
    const double exact = o.condition_share[c] / sum * total;
    n[c] = static_cast<int>(std::floor(exact));
    rem[c] = exact - n[c];
    given += n[c];
  }
  std::array<size_t, 5> by_rem{0, 1, 2, 3, 4};
  std::stable_sort(by_rem.begin(), by_rem.end(), [&](size_t a, size_t b) { return rem[a] > rem[b]; });
  for (int i = 0; given < total; ++i, ++given) ++n[by_rem[static_cast<size_t>(i) % 5]];
  std::vector<Condition> out;
  for (size_t c = 0; c < 5; ++c)
    for (int i = 0; i < n[c]; ++i) out.push_back(condition_from_name(kA2D2Conditions[c]));
  Stream s(seed, "synth/a2d2/conditions");
  for (size_t j = out.size(); j > 1; --j) std::swap(out[j - 1], out[static_cast<size_t>(s.randint(0, static_cast<int64_t>(j)))]);
  return out;
}

std::string a2d2_scene_name(int scene) { return fmt::format("20200101_{:02d}{:02d}00", 10 + scene / 60, scene % 60); }

DistortionWarp distortion_warp(const A2D2Camera& cam) {
  const int W = cam.width, H = cam.height;
  std::vector<cv::Point2f> src;
  src.reserve(static_cast<size_t>(W) * H);
  for (int v = 0; v < H; ++v)
    for (int u = 0; u < W; ++u) src.emplace_back(static_cast<float>(u), static_cast<float>(v));
  std::vector<cv::Point2f> dst;
  const cv::Mat D(1, 5, CV_64F, const_cast<double*>(cam.distortion.data()));
  cv::undistortPoints(src, dst, cv::Mat(cam.cam_matrix_original), D, cv::noArray(), cv::Mat(cam.cam_matrix),
                      cv::TermCriteria(cv::TermCriteria::COUNT | cv::TermCriteria::EPS, 100, 1e-10));
  DistortionWarp w;
  w.map_x.create(H, W);
  w.map_y.create(H, W);
  float lo_x = 0, lo_y = 0, hi_x = static_cast<float>(W - 1), hi_y = static_cast<float>(H - 1);
  for (int v = 0; v < H; ++v)
    for (int u = 0; u < W; ++u) {
      const cv::Point2f& p = dst[static_cast<size_t>(v) * W + u];
      w.map_x(v, u) = p.x;
      w.map_y(v, u) = p.y;
      lo_x = std::min(lo_x, p.x);
      lo_y = std::min(lo_y, p.y);
      hi_x = std::max(hi_x, p.x);
      hi_y = std::max(hi_y, p.y);
    }
  w.left = static_cast<int>(std::ceil(-lo_x)) + 2;
  w.top = static_cast<int>(std::ceil(-lo_y)) + 2;
  w.right = static_cast<int>(std::ceil(hi_x - (W - 1))) + 2;
  w.bottom = static_cast<int>(std::ceil(hi_y - (H - 1))) + 2;
  return w;
}

A2D2Frame render_a2d2_frame(uint64_t seed, int scene, int frame, Condition condition, double severity,
                            const A2D2SynthOptions& o, const A2D2Camera& cam, const DistortionWarp& warp) {
  const int W = cam.width, H = cam.height;
  Scene sc = make_scene(seed, "a2d2", scene, city_style(kStyles[static_cast<size_t>(scene) % kStyles.size()]), W, H);
  sc = drive_scene(std::move(sc), frame, o);
  Camera& rc = sc.cam;
  rc.width = W + warp.left + warp.right;
  rc.height = H + warp.top + warp.bottom;
  rc.f = static_cast<float>(cam.cam_matrix(0, 0));
  rc.fy = static_cast<float>(cam.cam_matrix(1, 1));
  // CamMatrix puts pixel centres at integers; the renderer's pixel u spans [u, u + 1).
  rc.cx = static_cast<float>(cam.cam_matrix(0, 2)) + static_cast<float>(warp.left) + 0.5f;
  rc.cy = static_cast<float>(cam.cam_matrix(1, 2)) + static_cast<float>(warp.top) + 0.5f;
  rc.h = static_cast<float>(kCameraHeight);
  rc.x = 0;
  rc.z = static_cast<float>(o.step_m * frame);
  rc.bonnet = false;
  rc.centred_polygons = true;
  const Frame fr = render(sc);
  const uint64_t key = static_cast<uint64_t>(scene) * 1000003ull + static_cast<uint64_t>(frame);
  Stream crng(seed, std::string("synth/a2d2/condition/") + kA2D2Conditions[static_cast<size_t>(condition)], key);
  const cv::Mat3b full = apply_condition(fr, condition, severity, crng);
  A2D2Frame out;
  out.condition = condition;
  const cv::Rect frame_box(warp.left, warp.top, W, H);
  out.undistorted_bgr = full(frame_box).clone();
  out.label_id = fr.label_id(frame_box).clone();
  cv::Mat1f mx = warp.map_x + static_cast<float>(warp.left), my = warp.map_y + static_cast<float>(warp.top);
  cv::remap(full, out.distorted_bgr, mx, my, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::remap(fr.label_id, out.distorted_label_id, mx, my, cv::INTER_NEAREST, cv::BORDER_REPLICATE);
  CameraPlacement place;
  place.camera = cam;
  place.world = {rc.x, rc.h, rc.z};
  place.camera_depth = fr.depth(frame_box).clone();
  Stream base(seed, "synth/a2d2/lidar", static_cast<uint64_t>(scene), static_cast<uint64_t>(frame));
  Stream clutter(seed, "synth/a2d2/lidar-clutter", static_cast<uint64_t>(scene), static_cast<uint64_t>(frame));
  const int64_t t0 = 1577872800000000 + int64_t{60000000} * scene + static_cast<int64_t>(std::llround(o.step_m / 10.0 * 1e6)) * frame;
  out.lidar = simulate_lidar(sc, place, condition, severity, t0, base, clutter);
  return out;
}

std::string_view a2d2_label_class(uint8_t label_id) {
  switch (label_id) {
    case 1: return "Ego car";
    case 7: return "RD normal street";
    case 8: return "Sidewalk";
    case 9: return "Parking area";
    case 11: return "Buildings";
    case 13: return "Grid structure";
    case 14: return "Sidebars";
    case 17: return "Poles";
    case 19: return "Traffic signal 1";
    case 20: return "Traffic sign 1";
    case 21: return "Nature object";
    case 23: return "Sky";
    case 24: return "Pedestrian 1";
    case 26: return "Car 1";
    case 27: return "Truck 1";
    case 32: return "Small vehicles 1";
    case 33: return "Bicycle 1";
    default: return "Blurred area";
  }
}

cv::Mat3b a2d2_label_bgr(const cv::Mat1b& label_id) {
  std::array<cv::Vec3b, 256> colour{};
  for (int id = 0; id < 256; ++id) {
    const std::string_view name = a2d2_label_class(static_cast<uint8_t>(id));
    for (const A2D2Class& c : a2d2_classes())
      if (c.name == name)
        colour[static_cast<size_t>(id)] = cv::Vec3b(static_cast<uint8_t>(c.rgb & 0xff),
                                                    static_cast<uint8_t>((c.rgb >> 8) & 0xff),
                                                    static_cast<uint8_t>(c.rgb >> 16));
  }
  cv::Mat3b out(label_id.size());
  for (int v = 0; v < label_id.rows; ++v)
    for (int u = 0; u < label_id.cols; ++u) out(v, u) = colour[label_id(v, u)];
  return out;
}

std::string a2d2_class_list_text() {
  // A2D2's own class list (camera_lidar_semantic/class_list.json of the A2D2 download): same colours, names, order
  // and layout (json.dump(indent=4)).
  std::string s = "{\n";
  const auto& classes = a2d2_classes();
  for (size_t i = 0; i < classes.size(); ++i)
    s += fmt::format("    \"{}\": \"{}\"{}\n", a2d2_colour_hex(classes[i].rgb), classes[i].name,
                     i + 1 < classes.size() ? "," : "");
  return s + "}\n";
}

std::vector<NpzMember> a2d2_npz_members(const std::vector<LidarReturn>& l) {
  const int64_t n = static_cast<int64_t>(l.size());
  auto f8 = [&](auto get) {
    torch::Tensor t = torch::empty({n}, torch::kFloat64);
    double* p = t.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = get(l[static_cast<size_t>(i)]);
    return npy_from_tensor(t);
  };
  auto i8 = [&](auto get) {
    torch::Tensor t = torch::empty({n}, torch::kInt64);
    int64_t* p = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = get(l[static_cast<size_t>(i)]);
    return npy_from_tensor(t);
  };
  torch::Tensor pts = torch::empty({n, 3}, torch::kFloat64);
  double* p = pts.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) p[3 * i + k] = l[static_cast<size_t>(i)].point[k];
  return {{"azimuth", f8([](const LidarReturn& r) { return r.azimuth; })},
          {"row", f8([](const LidarReturn& r) { return r.row; })},
          {"lidar_id", f8([](const LidarReturn& r) { return static_cast<double>(r.lidar_id); })},
          {"depth", f8([](const LidarReturn& r) { return r.point[0]; })},
          {"reflectance", i8([](const LidarReturn& r) { return r.reflectance; })},
          {"col", f8([](const LidarReturn& r) { return r.col; })},
          {"points", npy_from_tensor(pts)},
          {"timestamp", i8([](const LidarReturn& r) { return r.timestamp; })},
          {"distance", f8([](const LidarReturn& r) { return cv::norm(r.point); })}};
}

}  // namespace clcp::synth
