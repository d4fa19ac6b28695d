#include "suite/data/synth/a2d2_rig.hpp"

#include <cmath>

namespace clcp::synth {

namespace {

// A2D2 cams_lidars.json (see the header).
const SensorView kFrontCenterView{{1.711045726422736, -5.735179668849011e-09, 0.9431449279047172},
                                  {0.9997595802751106, 0.021372184646008877, -0.004900139956328717},
                                  {-0.021482638328964472, 0.9994877740097232, -0.02372100030596073}};
const SensorView kFrontCenterView_{{1.7110457264227357, -5.735179664512202e-09, 0.9431449279047173},
                                   {0.9996634642995799, 0.022799351501069053, -0.012375286489347262},
                                   {-0.022997507411583355, 0.999605659802198, -0.016113334362155302}};
const double kCamMatrix[3][3] = {{1687.3369140625, 0.0, 965.4341405582381}, {0.0, 1783.428466796875, 684.4193604186803},
                                 {0.0, 0.0, 1.0}};
const double kCamMatrixOriginal[3][3] = {{1844.1774422790927, 0.0, 964.4299052386386},
                                         {0.0, 1841.5212239377258, 679.5331911948183},
                                         {0.0, 0.0, 1.0}};
const double kDistortion[5] = {-0.2611312587700434, 0.0, 0.0, 0.0, 0.0};
constexpr int kWidth = 1920, kHeight = 1208, kTstampDelay = 25000;

nlohmann::json vec(const cv::Vec3d& v) { return {v[0], v[1], v[2]}; }
nlohmann::json view_json(const SensorView& v) {
  return {{"origin", vec(v.origin)}, {"x-axis", vec(v.x_axis)}, {"y-axis", vec(v.y_axis)}};
}
nlohmann::json mat_json(const cv::Matx33d& m) {
  nlohmann::json j = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) j.push_back({m(r, 0), m(r, 1), m(r, 2)});
  return j;
}

cv::Matx33d scaled(const double k[3][3], double s) {
  return {k[0][0] * s, 0.0, (k[0][2] + 0.5) * s - 0.5, 0.0, k[1][1] * s, (k[1][2] + 0.5) * s - 0.5, 0.0, 0.0, 1.0};
}

}  // namespace

const std::vector<RigLidar>& a2d2_lidars() {
  static const std::vector<RigLidar> l = {
      {"front_left", 0,
       {{1.7115472144019115, 0.6309253612930116, 1.1183603410607053},
        {0.9997181756703177, -0.02247154565787787, -0.0076549898862032445},
        {0.013577535160789809, 0.8057433542223932, -0.5921091940389074}}},
      {"rear_right", 1,
       {{-0.4335855801921671, -0.6050262250544058, 1.1183086367434956},
        {-0.946105656109395, 0.022278038022261998, -0.3230909724825038},
        {0.06774258601831458, -0.9619486437056151, -0.26469935570846975}}},
      {"front_right", 2,
       {{1.7057192494119477, -0.6546311501997916, 1.1162099278760471},
        {-0.9998610375105861, 0.010662317224908232, 0.012814860890777973},
        {-0.01623086785658188, -0.798013739000296, -0.6024206431517679}}},
      {"front_center", 3,
       {{1.7183999999999997, 3.8163916471489756e-17, 1.1201406050000002},
        {-0.007840892071133887, -0.9999275831501491, -0.00912956006775139},
        {0.9807203123118539, -0.005906897013169535, -0.19532736005643384}}},
      {"rear_left", 4,
       {{-0.43094714121137156, 0.5880139308083067, 1.1479587720725783},
        {0.9429395447084686, -0.007441303046458202, 0.3328808225686139},
        {0.09087818558776738, 0.9675433570319885, -0.235798659130084}}}};
  return l;
}

SensorView a2d2_front_center_view() { return kFrontCenterView; }

cv::Matx33d view_axes(const SensorView& v) {
  const cv::Vec3d x = cv::normalize(v.x_axis);
  const cv::Vec3d z = cv::normalize(x.cross(v.y_axis));
  const cv::Vec3d y = z.cross(x);
  return {x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]};
}

SensorPose lidar_pose_in_camera(const RigLidar& l) {
  const cv::Matx33d rc = view_axes(kFrontCenterView), rl = view_axes(l.view);
  SensorPose p;
  p.origin = rc.t() * (l.view.origin - kFrontCenterView.origin);
  p.axes = rc.t() * rl;
  return p;
}

A2D2Camera a2d2_camera(double s) {
  A2D2Camera c;
  c.cam_matrix = scaled(kCamMatrix, s);
  c.cam_matrix_original = scaled(kCamMatrixOriginal, s);
  for (int i = 0; i < 5; ++i) c.distortion[static_cast<size_t>(i)] = kDistortion[i];
  c.lens = "Telecam";
  c.width = static_cast<int>(std::lround(kWidth * s));
  c.height = static_cast<int>(std::lround(kHeight * s));
  return c;
}

nlohmann::json a2d2_cams_lidars_json(const A2D2Camera& c) {
  nlohmann::json j;
  j["vehicle"] = {{"view", view_json({{0, 0, 0}, {1, 0, 0}, {0, 1, 0}})},
                  {"ego-dimensions", {{"x-range", {-1.0, 4.0}}, {"y-range", {-1.25, 1.25}}, {"z-range", {-0.75, 1.5}}}}};
  for (const RigLidar& l : a2d2_lidars()) j["lidars"][l.name] = {{"view", view_json(l.view)}};
  nlohmann::json dist = nlohmann::json::array();
  dist.push_back({c.distortion[0], c.distortion[1], c.distortion[2], c.distortion[3], c.distortion[4]});
  j["cameras"]["front_center"] = {{"tstamp_delay", kTstampDelay},
                                  {"view", view_json(kFrontCenterView)},
                                  {"view_", view_json(kFrontCenterView_)},
                                  {"CamMatrix", mat_json(c.cam_matrix)},
                                  {"CamMatrixOriginal", mat_json(c.cam_matrix_original)},
                                  {"Distortion", dist},
                                  {"Lens", c.lens},
                                  {"Resolution", {c.width, c.height}}};
  return j;
}

}  // namespace clcp::synth
