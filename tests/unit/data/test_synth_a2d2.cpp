// The embedded A2D2 data (suite/data/synth/a2d2_synth.hpp, lidar.hpp): reproducible bytes for any thread count, the
// real A2D2 layout and npz format (the reader and numpy load it), lidar points on pixels of their own class, the
// weather acting on the lidar as it physically does, the distortion that the pipeline's undistortion removes, and the
// condition shares.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data_test_util.hpp"
#include "python_util.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "suite/data/synth/a2d2_rig.hpp"
#include "suite/data/synth/a2d2_synth.hpp"
#include "suite/data/synth/synth.hpp"

using namespace clcp;
using namespace clcp::synth;
namespace fs = std::filesystem;

namespace {

SynthOptions a2d2_only(const fs::path& out, int threads) {
  SynthOptions o;
  o.out = out;
  o.seed = 3;
  o.train_images = o.val_images = o.acdc_val_per_condition = 0;
  o.threads = threads;
  o.a2d2.scenes = 2;
  o.a2d2.frames = 2;
  o.a2d2.scale = 0.25;
  return o;
}

std::map<std::string, std::string> file_hashes(const fs::path& root) {
  std::map<std::string, std::string> h;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) h[e.path().lexically_relative(root).generic_string()] = sha256_file(e.path());
  return h;
}

// Share of surface returns (not clutter) whose pixel int(row + 0.5), int(col + 0.5) shows their labelId.
double label_agreement(const A2D2Frame& f, int* n_out = nullptr) {
  int n = 0, same = 0;
  for (const LidarReturn& r : f.lidar) {
    if (r.clutter) continue;
    ++n;
    same += f.label_id(static_cast<int>(r.row + 0.5), static_cast<int>(r.col + 0.5)) == r.label_id;
  }
  if (n_out) *n_out = n;
  return n ? static_cast<double>(same) / n : 0.0;
}

double mean_range(const A2D2Frame& f) {
  double s = 0;
  for (const LidarReturn& r : f.lidar) s += cv::norm(r.point);
  return f.lidar.empty() ? 0 : s / static_cast<double>(f.lidar.size());
}

}  // namespace

TEST_CASE("synth A2D2 writes byte-identical files for the same seed with 1 and 2 threads, in A2D2's layout",
          "[data][synth][a2d2]") {
  clcp::test::TempDir t1, t2;
  const SynthSummary s1 = generate(a2d2_only(t1.path(), 1));
  generate(a2d2_only(t2.path(), 2));
  const auto h1 = file_hashes(t1.path()), h2 = file_hashes(t2.path());
  CHECK(h1 == h2);
  CHECK(s1.a2d2_frames == 4);
  CHECK(s1.a2d2_points > 0);
  WARN("synth A2D2 at 480x302: 4 pairs, " << s1.a2d2_points << " points, " << s1.a2d2_bytes << " bytes, "
                                           << s1.a2d2_seconds << " s of worker time");
  const fs::path root = t1.path() / "a2d2/camera_lidar_semantic";
  CHECK(fs::exists(t1.path() / "a2d2/cams_lidars.json"));
  CHECK(fs::exists(root / "20200101_100100/lidar/cam_front_center/20200101100100_lidar_frontcenter_000000010.npz"));
  CHECK(fs::exists(root / "20200101_100100/camera/cam_front_center/20200101100100_camera_frontcenter_000000010.png"));
  CHECK(fs::exists(root / "20200101_100100/label/cam_front_center/20200101100100_label_frontcenter_000000010.png"));
  CHECK(fs::exists(root / "class_list.json"));  // A2D2's class list for the colour-coded labels
  // The A2D2 reader loads it like the real data set.
  const A2D2Dataset d = read_a2d2(root);
  CHECK(d.scenes == std::vector<std::string>{"20200101_100000", "20200101_100100"});
  CHECK(d.pairs.size() == 4);
  CHECK(d.skipped.empty());
  CHECK(d.camera.width == 480);
  CHECK(d.camera.height == 302);
  CHECK(d.camera.cam_matrix(0, 0) == Approx(1687.3369140625 * 0.25));
  const cv::Mat png = cv::imread(d.pairs[0].camera.string(), cv::IMREAD_COLOR);
  CHECK(png.cols == 480);
  CHECK(png.rows == 302);
  const NpzArchive a = read_npz(d.pairs[0].lidar);
  CHECK(a.keys() == std::vector<std::string>{"azimuth", "row", "lidar_id", "depth", "reflectance", "col", "points",
                                             "timestamp", "distance"});
  CHECK(a.find("reflectance")->dtype == NpyDtype::kI8);
  CHECK(a.find("timestamp")->dtype == NpyDtype::kI8);
  CHECK(a.find("lidar_id")->dtype == NpyDtype::kF8);
  const int64_t n = a.find("points")->shape[0];
  CHECK(a.find("points")->shape == std::vector<int64_t>{n, 3});
  const torch::Tensor pts = a.find("points")->to_tensor();
  CHECK(pts.select(1, 0).equal(a.find("depth")->to_tensor()));
  CHECK((pts.norm(2, 1) - a.find("distance")->to_tensor()).abs().max().item<double>() < 1e-12);
  const torch::Tensor ids = a.find("lidar_id")->to_tensor();
  for (int id = 0; id < 5; ++id) CHECK((ids == id).sum().item<int64_t>() > 0);  // all five sensors contribute
  // row/col are the CamMatrix projection of the points (A2D2's convention, verified on the real file).
  const torch::Tensor col = a.find("col")->to_tensor(), row = a.find("row")->to_tensor();
  const double fx = d.camera.cam_matrix(0, 0), cx = d.camera.cam_matrix(0, 2);
  CHECK(((cx + fx * (-pts.select(1, 1) / pts.select(1, 0))) - col).abs().max().item<double>() < 1e-9);
  CHECK(row.min().item<double>() >= -0.5);
  CHECK(row.max().item<double>() < 301.5);
  // SYNTH.json records the shares and every frame's condition.
  const nlohmann::json j = read_json(t1.path() / "SYNTH.json");
  CHECK(j["generator_version"] == kGeneratorVersion);
  CHECK(j["a2d2"]["frames"].size() == 4);
  CHECK(j["a2d2"]["camera"]["crop"] == 224);
  CHECK(j["a2d2"]["condition_share"]["clear"] == 0.6);

  if (!fs::exists(clcp::test::venv_python())) {
    WARN("skipped the numpy half: no build/venv python");
    return;
  }
  clcp::test::TempDir py;
  const int rc = clcp::test::run_snippet(clcp::test::venv_python(), py.path(), R"(
import sys, numpy as np
z = np.load(sys.argv[2])
assert list(z.keys()) == ["azimuth", "row", "lidar_id", "depth", "reflectance", "col", "points", "timestamp", "distance"]
want = {"azimuth": "<f8", "row": "<f8", "lidar_id": "<f8", "depth": "<f8", "reflectance": "<i8", "col": "<f8",
        "points": "<f8", "timestamp": "<i8", "distance": "<f8"}
for k, v in want.items():
    assert z[k].dtype.str == v, (k, z[k].dtype.str)
n = z["points"].shape[0]
assert z["points"].shape == (n, 3) and all(z[k].shape == (n,) for k in want if k != "points")
assert z["reflectance"].min() >= 0 and z["reflectance"].max() <= 255
assert set(np.unique(z["lidar_id"])) <= {0.0, 1.0, 2.0, 3.0, 4.0}
assert np.all(z["azimuth"] >= 0) and np.all(z["azimuth"] < 2 * np.pi)
print("ok", n)
)", "'" + d.pairs[0].lidar.string() + "'");
  INFO(clcp::test::snippet_log(py.path()));
  CHECK(rc == 0);
}

TEST_CASE("synth A2D2 lidar points land on pixels of their own class and the weather acts on the lidar as it physically does",
          "[data][synth][a2d2]") {
  A2D2SynthOptions o;
  o.scale = 0.25;
  const A2D2Camera cam = a2d2_camera(o.scale);
  const DistortionWarp warp = distortion_warp(cam);
  const A2D2Frame clear = render_a2d2_frame(5, 1, 2, Condition::kClear, 1.0, o, cam, warp);
  int n = 0;
  const double agree = label_agreement(clear, &n);
  WARN("clear frame: " << clear.lidar.size() << " points, " << 100 * agree << " % on pixels of their class");
  CHECK(n > 1000);
  CHECK(agree >= 0.95);
  // Night: an active sensor, the same scan bit for bit; the camera image is darker.
  const A2D2Frame night = render_a2d2_frame(5, 1, 2, Condition::kNight, 1.0, o, cam, warp);
  REQUIRE(night.lidar.size() == clear.lidar.size());
  for (size_t i = 0; i < clear.lidar.size(); ++i) {
    CHECK(night.lidar[i].point == clear.lidar[i].point);
    CHECK(night.lidar[i].reflectance == clear.lidar[i].reflectance);
  }
  CHECK(cv::mean(night.distorted_bgr)[1] < 0.5 * cv::mean(clear.distorted_bgr)[1]);
  // Fog: attenuation shortens the range and droplet backscatter adds near returns.
  const A2D2Frame fog = render_a2d2_frame(5, 1, 2, Condition::kFog, 1.0, o, cam, warp);
  int fog_clutter = 0, fog_near = 0, clear_near = 0;
  for (const auto& r : fog.lidar) {
    fog_clutter += r.clutter;
    fog_near += cv::norm(r.point) < 6.5;
  }
  for (const auto& r : clear.lidar) clear_near += cv::norm(r.point) < 6.5;
  WARN("mean range clear " << mean_range(clear) << " m, fog " << mean_range(fog) << " m; fog clutter " << fog_clutter
                           << ", returns within 6.5 m: clear " << clear_near << ", fog " << fog_near);
  CHECK(mean_range(fog) < 0.8 * mean_range(clear));
  CHECK(fog_clutter > 0);
  CHECK(fog_near > clear_near);
  CHECK(label_agreement(fog) >= 0.95);
  // Rain and snow: clutter and dropout.
  for (Condition c : {Condition::kRain, Condition::kSnow}) {
    const A2D2Frame f = render_a2d2_frame(5, 1, 2, c, 1.0, o, cam, warp);
    int cl = 0;
    for (const auto& r : f.lidar) cl += r.clutter;
    CHECK(cl > 0);
    CHECK(static_cast<int>(f.lidar.size()) - cl < static_cast<int>(clear.lidar.size()));
  }
}

TEST_CASE("the synth A2D2 camera PNG is distorted and the pipeline's undistortion maps it back onto the render",
          "[data][synth][a2d2]") {
  A2D2SynthOptions o;
  o.scale = 0.25;
  const A2D2Camera cam = a2d2_camera(o.scale);
  const DistortionWarp warp = distortion_warp(cam);
  CHECK(warp.left > 0);  // the distorted frame sees beyond the undistorted one
  const A2D2Frame f = render_a2d2_frame(8, 0, 1, Condition::kClear, 1.0, o, cam, warp);
  const Undistorter und(cam);
  const cv::Mat back = und.apply(f.distorted_bgr);
  cv::Mat d_back, d_raw;
  cv::absdiff(back, f.undistorted_bgr, d_back);
  cv::absdiff(f.distorted_bgr, f.undistorted_bgr, d_raw);
  const double mean_back = cv::mean(d_back.reshape(1))[0], mean_raw = cv::mean(d_raw.reshape(1))[0];
  WARN("mean |undistort(png) - render| " << mean_back << " levels; mean |png - render| " << mean_raw << " levels");
  CHECK(mean_back < 4.0);          // two bilinear resamplings of a textured image
  CHECK(mean_raw > 3 * mean_back);  // the PNG really is distorted
}

TEST_CASE("the synth A2D2 conditions take their exact shares of the frames", "[data][synth][a2d2]") {
  A2D2SynthOptions o;
  o.scenes = 5;
  o.frames = 4;
  const std::vector<Condition> c = a2d2_conditions(o, 1);
  REQUIRE(c.size() == 20);
  std::map<Condition, int> n;
  for (Condition x : c) ++n[x];
  CHECK(n[Condition::kClear] == 12);
  CHECK(n[Condition::kFog] == 2);
  CHECK(n[Condition::kNight] == 2);
  CHECK(n[Condition::kRain] == 2);
  CHECK(n[Condition::kSnow] == 2);
  CHECK((a2d2_conditions(o, 1) == c));
  CHECK((a2d2_conditions(o, 2) != c));  // a seeded permutation
  o.condition_share = {1, 0, 0, 0, 1};
  o.scenes = 1;
  o.frames = 3;  // 1.5 / 1.5: the remainder goes to the first of the tied conditions
  const std::vector<Condition> c3 = a2d2_conditions(o, 1);
  CHECK(std::count(c3.begin(), c3.end(), Condition::kClear) == 2);
  CHECK(std::count(c3.begin(), c3.end(), Condition::kSnow) == 1);
  o.condition_share = {0, 0, 0, 0, 0};
  CHECK_THROWS_AS(validate(o), UserError);
}
