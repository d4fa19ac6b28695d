// The A2D2 reader (suite/data/a2d2.hpp): layout, sorting, the per-scene split, the skip rule, the manifest, every
// bad-input line, the real cams_lidars.json, and the undistortion against opencv-python's cv2.undistort on the real
// A2D2 camera frame.
#include <catch2/catch.hpp>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "a2d2_test_util.hpp"
#include "npz_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/a2d2_manifest.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "support/test_paths.hpp"
#include "unit/parity/oracle.hpp"

using namespace clcp;
using clcp::test::A2D2Writer;
using clcp::test::lidar_members;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string a2d2_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

const fs::path kReal = fs::path(CLCP_REALDATA_DIR) / "a2d2";

}  // namespace

TEST_CASE("the A2D2 reader pairs lidar files with camera images sorted by path and puts each scene's last pairs into val",
          "[data][a2d2]") {
  TempDir tmp;
  A2D2Writer w{tmp.path() / "camera_lidar_semantic"};
  clcp::test::write_cams_lidars(tmp.path() / "cams_lidars.json");  // one folder up, as in the download
  for (int f : {40, 10, 30, 20, 70, 50, 60}) w.pair("20181107_132300", f);
  for (int f : {3, 1, 2}) w.pair("20180810_142822", f);
  fs::create_directories(w.root / "not_a_scene/lidar/cam_front_center");  // ignored: not named like a scene
  const A2D2Dataset d = read_a2d2(w.root);
  CHECK(d.scenes == std::vector<std::string>{"20180810_142822", "20181107_132300"});
  REQUIRE(d.pairs.size() == 10);
  CHECK(d.pairs[0].id == "20180810_142822/lidar/cam_front_center/20180810142822_lidar_frontcenter_000000001.npz");
  CHECK(d.pairs[0].camera == w.camera_path("20180810_142822", 1));
  CHECK(d.pairs[0].frame == 1);
  CHECK(d.pairs[3].frame == 10);
  CHECK(d.pairs[9].frame == 70);
  CHECK(d.camera.source == tmp.path() / "cams_lidars.json");
  CHECK(d.camera.width == 96);
  CHECK(d.skipped.empty());
  // val_ratio 0.15: floor(3·0.15) = 0 → the 3-pair scene stays in train; floor(7·0.15) = 1 → frame 70 is val.
  CHECK(d.val_ratio == 0.15);
  CHECK(d.val == std::vector<size_t>{9});
  CHECK(d.train.size() == 9);
  const PairSplit val = a2d2_split(d, "val");
  REQUIRE(val.records.size() == 1);
  CHECK(val.records[0].frame == 70);
  A2D2Options o;
  o.val_ratio = 0.5;  // floor(3·0.5) = 1, floor(7·0.5) = 3: the temporally last pairs of each scene
  const A2D2Dataset d2 = read_a2d2(w.root, o);
  CHECK(d2.val == std::vector<size_t>{2, 7, 8, 9});
}

TEST_CASE("the split keeps a scene whole in train when floor(n·val_ratio) is 0 and clamps val_ratio with a warning",
          "[data][a2d2]") {
  using V = std::vector<bool>;
  const std::vector<std::string> scenes = {"a", "a", "a", "b", "b", "b", "b", "b", "b", "b"};
  CHECK(val_assignment(scenes, 0.0) == V(10, false));
  CHECK(val_assignment(scenes, 0.15) == V{false, false, false, false, false, false, false, false, false, true});
  CHECK(val_assignment(scenes, 0.34) == V{false, false, true, false, false, false, false, false, true, true});
  CHECK(val_assignment({"a", "a"}, 0.5) == V{false, true});
  CHECK(val_assignment({}, 0.5).empty());
  // 20·0.15 = 3.0000000000000004 in double: floor gives 3, as Python's int(20 * 0.15).
  const std::vector<bool> twenty = val_assignment(std::vector<std::string>(20, "s"), 0.15);
  CHECK(std::count(twenty.begin(), twenty.end(), true) == 3);
  std::vector<std::string> warnings;
  CHECK(clamp_val_ratio(0.15, warnings) == 0.15);
  CHECK(warnings.empty());
  CHECK(clamp_val_ratio(0.7, warnings) == 0.5);
  CHECK(clamp_val_ratio(-0.1, warnings) == 0.0);
  CHECK(warnings == std::vector<std::string>{"val_ratio 0.7 is outside [0, 0.5]; using 0.5",
                                              "val_ratio -0.1 is outside [0, 0.5]; using 0"});
  TempDir tmp;
  A2D2Writer w{tmp.path()};
  clcp::test::write_cams_lidars(tmp.path() / "cams_lidars.json");
  for (int f = 0; f < 4; ++f) w.pair("20181107_132300", f);
  A2D2Options o;
  o.val_ratio = 0.9;
  const A2D2Dataset d = read_a2d2(w.root, o);
  CHECK(d.val_ratio == 0.5);
  CHECK(d.warnings.size() == 1);
  CHECK(d.val == std::vector<size_t>{2, 3});
  o.val_ratio = 0.0;
  const A2D2Dataset d0 = read_a2d2(w.root, o);
  CHECK(d0.train.size() == 4);  // n_val = 0 keeps the whole scene in train (not the refactor's [:-0] → all val)
  CHECK(a2d2_error([&] { a2d2_split(d0, "val"); }) ==
        w.root.string() + ": A2D2 val split is empty (4 pairs, val_ratio 0); use a val_ratio that gives each scene "
                          "≥ 1 val pair, or more pairs");
  CHECK_THAT(a2d2_error([&] { a2d2_split(d0, "test"); }), Catch::Contains("expected train or val"));
}

TEST_CASE("the A2D2 reader skips, counts and names empty or incomplete lidar files and unpaired files", "[data][a2d2]") {
  TempDir tmp;
  A2D2Writer w{tmp.path()};
  clcp::test::write_cams_lidars(tmp.path() / "cams_lidars.json");
  const std::string sc = "20181107_132300";
  w.pair(sc, 1);
  w.pair(sc, 2);
  // The thesis's 15 bad files: empty points and no reflectance, row, col.
  w.lidar(sc, 20, {{"points", npy_from_tensor(torch::zeros({0, 3}, torch::kFloat64))},
                   {"timestamp", npy_from_tensor(torch::zeros({0}, torch::kInt64))}});
  w.camera(sc, 20);
  w.lidar(sc, 22, lidar_members(5, 96, 60, {"col"}));
  w.camera(sc, 22);
  w.lidar(sc, 23, {{"points", npy_from_tensor(torch::zeros({0, 3}, torch::kFloat64))},
                   {"reflectance", npy_from_tensor(torch::zeros({0}, torch::kInt64))},
                   {"row", npy_from_tensor(torch::zeros({0}, torch::kFloat64))},
                   {"col", npy_from_tensor(torch::zeros({0}, torch::kFloat64))}});
  w.camera(sc, 23);
  w.lidar(sc, 30, lidar_members(5));  // no camera image
  w.camera(sc, 40);                   // no lidar file
  write_npz(w.lidar_path(sc, 1).parent_path() / "20181107132300_lidar_frontcenter_12.npz", lidar_members(3));
  const A2D2Dataset d = read_a2d2(w.root);
  REQUIRE(d.pairs.size() == 2);
  REQUIRE(d.skipped.size() == 6);
  auto reason = [&](const fs::path& f) {
    for (const auto& s : d.skipped)
      if (s.file == f) return s.reason;
    return std::string("(not skipped)");
  };
  CHECK(reason(w.lidar_path(sc, 20)) == "points is empty (0 points) and lacks reflectance, row, col");
  CHECK(reason(w.lidar_path(sc, 22)) == "lacks col");
  CHECK(reason(w.lidar_path(sc, 23)) == "points is empty (0 points)");
  CHECK(reason(w.lidar_path(sc, 30)) == "no camera image " + w.camera_path(sc, 30).string());
  CHECK(reason(w.camera_path(sc, 40)) == "camera image without lidar file " + w.lidar_path(sc, 40).string());
  CHECK(reason(w.lidar_path(sc, 1).parent_path() / "20181107132300_lidar_frontcenter_12.npz") ==
        "file name does not match 20181107132300_lidar_frontcenter_<9 digits>.npz");
  // The manifest lists them with reasons; its hash covers pairs, skipped files, split and calibration.
  const nlohmann::json m = a2d2_manifest(d);
  CHECK(m["counts"]["pairs"] == 2);
  CHECK(m["counts"]["skipped"] == 6);
  CHECK(m["skipped"][0]["file"] == "20181107_132300/camera/cam_front_center/20181107132300_camera_frontcenter_000000040.png");
  CHECK(m["pairs"][1]["lidar"] == "20181107_132300/lidar/cam_front_center/20181107132300_lidar_frontcenter_000000002.npz");
  CHECK(m["pairs"][1]["split"] == "train");
  CHECK(m["cams_lidars"]["file"] == "cams_lidars.json");
  CHECK(m["hash"].get<std::string>().size() == 64);
  CHECK(a2d2_manifest_hash(read_a2d2(w.root)) == m["hash"]);
  fs::remove(w.camera_path(sc, 40));
  CHECK(a2d2_manifest_hash(read_a2d2(w.root)) != m["hash"]);  // one skipped file fewer: another data set
  A2D2Options o;
  o.val_ratio = 0.5;
  CHECK(a2d2_manifest_hash(read_a2d2(w.root, o)) != a2d2_manifest_hash(read_a2d2(w.root)));
}

TEST_CASE("bad A2D2 input gets one line naming the file and the fix", "[data][a2d2]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "camera_lidar_semantic";
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        root.string() + ": A2D2 root not found; pass --data-root DIR, the camera_lidar_semantic folder of the A2D2 download");
  fs::create_directories(root);
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        root.string() + ": no cams_lidars.json (looked at " + (root / "cams_lidars.json").string() + " and " +
            (tmp.path() / "cams_lidars.json").string() +
            "); put the A2D2 download's cams_lidars.json there or pass --cams-lidars FILE");
  CHECK_THAT(a2d2_error([&] { find_cams_lidars(root, tmp.path() / "nope.json"); }),
             Catch::Contains("nope.json: cams_lidars.json not found"));
  // A calibration without the front-centre camera.
  nlohmann::json j = synth::a2d2_cams_lidars_json(clcp::test::tiny_camera());
  j["cameras"].erase("front_center");
  write_json_atomic(root / "cams_lidars.json", j);
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        (root / "cams_lidars.json").string() +
            ": cameras has no \"front_center\" entry (the camera whose pairs are read); use the cams_lidars.json of "
            "the A2D2 download");
  j = synth::a2d2_cams_lidars_json(clcp::test::tiny_camera());
  j["cameras"]["front_center"]["CamMatrix"] = {{1, 0}, {0, 1}};
  write_json_atomic(root / "cams_lidars.json", j);
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }), Catch::Contains("cameras.front_center.CamMatrix must be a 3×3 array"));
  clcp::test::write_cams_lidars(root / "cams_lidars.json");
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }), Catch::Contains(": no A2D2 scene folders (YYYYMMDD_HHMMSS/"));
  // An empty scene.
  A2D2Writer w{root};
  fs::create_directories(root / "20181107_132300/lidar/cam_front_center");
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        (root / "20181107_132300").string() +
            ": empty scene: no usable front-centre pair (0 lidar files in lidar/cam_front_center/, all skipped or none); "
            "restore the scene's lidar/ and camera/ folders or remove the scene folder");
  // A lidar file without its camera (and the reverse) is skipped; when that leaves nothing, the scene is empty.
  w.lidar("20181107_132300", 1, lidar_members(4));
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }), Catch::Contains("empty scene: no usable front-centre pair (1 lidar files"));
  w.camera("20181107_132300", 1);
  CHECK(read_a2d2(root).pairs.size() == 1);
  // Damaged npz files.
  clcp::test::write_bytes(w.lidar_path("20181107_132300", 1), "not a zip");
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        w.lidar_path("20181107_132300", 1).string() +
            ": not a zip archive (an .npz must be one; a truncated file also loses the zip directory at its end); "
            "re-download or regenerate the file");
  auto members = lidar_members(4);
  members[0].array.shape = {5};  // row: 5 values declared for 4 points
  members[0].array.data.append(8, '\0');
  write_npz(w.lidar_path("20181107_132300", 1), members);
  CHECK(a2d2_error([&] { read_a2d2(root); }) ==
        w.lidar_path("20181107_132300", 1).string() +
            ": mismatched member lengths: points has 4 rows but row has shape (5); re-download the file");
  const std::string fortran = clcp::test::npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 3), }",
                                                    clcp::test::raw_bytes(std::vector<double>{1, 2, 3}));
  clcp::test::write_bytes(w.lidar_path("20181107_132300", 1), clcp::test::zip_bytes({{"points.npy", fortran}}));
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }), Catch::Contains("member points.npy: array is stored in Fortran order"));
  const std::string big = clcp::test::npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 3), }",
                                                clcp::test::raw_bytes(std::vector<double>{1, 2, 3}));
  clcp::test::write_bytes(w.lidar_path("20181107_132300", 1), clcp::test::zip_bytes({{"points.npy", big}}));
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }), Catch::Contains("member points.npy: unsupported dtype '>f8'"));
  // A member whose data is cut short is found by the full read (the scan reads headers only).
  const std::string cut = clcp::test::npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }",
                                                clcp::test::raw_bytes(std::vector<double>(6)));
  clcp::test::write_bytes(w.lidar_path("20181107_132300", 1), clcp::test::zip_bytes({{"points.npy", cut}}));
  CHECK_THAT(a2d2_error([&] { read_a2d2(root); }),
             Catch::Contains("member points.npy: array data truncated: the header needs 96 bytes of data, the member holds 48"));
}

TEST_CASE("cams_lidars.json is taken from the given path, else the root, else one folder up", "[data][a2d2]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "camera_lidar_semantic";
  fs::create_directories(root);
  clcp::test::write_cams_lidars(tmp.path() / "cams_lidars.json");
  CHECK(find_cams_lidars(root, "") == tmp.path() / "cams_lidars.json");
  clcp::test::write_cams_lidars(root / "cams_lidars.json");
  CHECK(find_cams_lidars(root, "") == root / "cams_lidars.json");
  clcp::test::write_cams_lidars(tmp.path() / "other.json");
  CHECK(find_cams_lidars(root, tmp.path() / "other.json") == tmp.path() / "other.json");
}

TEST_CASE("the real cams_lidars.json front_center entry reads as A2D2 publishes it", "[data][a2d2][realdata]") {
  if (!fs::exists(kReal / "cams_lidars.json")) {
    WARN("skipped: " << (kReal / "cams_lidars.json").string() << " absent (real A2D2 sample)");
    return;
  }
  const A2D2Camera c = read_front_center_camera(kReal / "cams_lidars.json");
  CHECK(c.lens == "Telecam");
  CHECK(c.width == 1920);
  CHECK(c.height == 1208);
  CHECK(c.cam_matrix(0, 0) == 1687.3369140625);
  CHECK(c.cam_matrix(1, 1) == 1783.428466796875);
  CHECK(c.cam_matrix(0, 2) == 965.4341405582381);
  CHECK(c.cam_matrix_original(0, 0) == 1844.1774422790927);
  CHECK(c.cam_matrix_original(1, 2) == 679.5331911948183);
  CHECK(c.distortion[0] == -0.2611312587700434);
  CHECK(c.distortion[1] == 0.0);
  // The embedded rig's constants are these values (a2d2_rig.cpp), at scale 1.
  const A2D2Camera s = synth::a2d2_camera(1.0);
  CHECK(s.cam_matrix(0, 2) == c.cam_matrix(0, 2));
  CHECK(s.cam_matrix_original(1, 1) == c.cam_matrix_original(1, 1));
  CHECK(s.width == c.width);
}

TEST_CASE("the undistortion of the real A2D2 camera frame equals OpenCV's cv::undistort and opencv-python's cv2.undistort",
          "[data][a2d2][realdata][parity]") {
  const fs::path png = kReal / "camera_lidar_semantic/20181107_133258/camera/cam_front_center/"
                               "20181107133258_camera_frontcenter_000000250.png";
  if (!fs::exists(png)) {
    WARN("skipped: " << png.string() << " absent (real A2D2 sample)");
    return;
  }
  const A2D2Camera cam = read_front_center_camera(kReal / "cams_lidars.json");
  cv::Mat bgr = cv::imread(png.string(), cv::IMREAD_COLOR), rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const Undistorter und(cam);
  const cv::Mat ours = und.apply(rgb);
  // OpenCV's own cv::undistort (the library we link): identical, the maps are computed in the same stripes.
  cv::Mat ref;
  const cv::Mat D(1, 5, CV_64F, const_cast<double*>(cam.distortion.data()));
  cv::undistort(rgb, ref, cv::Mat(cam.cam_matrix_original), D, cv::Mat(cam.cam_matrix));
  CHECK(cv::norm(ours, ref, cv::NORM_INF) == 0);
  // opencv-python 4.10 (the thesis's version) in the oracle environment.
  CLCP_REQUIRE_ORACLE();
  parity::TempDir dir("undistort");
  const std::string code = R"(
import sys, json, cv2, numpy as np
d, png, cams = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(cams))["cameras"]["front_center"]
img = cv2.cvtColor(cv2.imread(png), cv2.COLOR_BGR2RGB)
out = cv2.undistort(img, np.asarray(c["CamMatrixOriginal"]), distCoeffs=np.asarray(c["Distortion"]),
                    newCameraMatrix=np.asarray(c["CamMatrix"]))
cv2.imwrite(d + "/py.png", cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
print(cv2.__version__)
)";
  std::ofstream(dir.path / "undistort.py") << code;
  const std::string cmd = "'" + parity::oracle_python() + "' '" + (dir.path / "undistort.py").string() + "' '" +
                          dir.path.string() + "' '" + png.string() + "' '" + (kReal / "cams_lidars.json").string() +
                          "' > '" + (dir.path / "log.txt").string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string log = parity::slurp(dir.path / "log.txt");
  if (rc != 0 && log.find("No module named") != std::string::npos) {
    WARN("skipped: opencv-python does not import in the oracle environment: " << log);
    return;
  }
  INFO(log);
  REQUIRE(rc == 0);
  cv::Mat py_bgr = cv::imread((dir.path / "py.png").string(), cv::IMREAD_COLOR), py;
  cv::cvtColor(py_bgr, py, cv::COLOR_BGR2RGB);
  REQUIRE(py.size() == ours.size());
  cv::Mat diff;
  cv::absdiff(ours, py, diff);
  const double max_diff = cv::norm(diff, cv::NORM_INF);
  const int differing = cv::countNonZero(diff.reshape(1));
  WARN("undistort vs cv2.undistort " << log.substr(0, log.find('\n')) << ": max |diff| " << max_diff << ", "
                                     << differing << " of " << diff.total() * 3 << " values differ");
  CHECK(max_diff == 0);
}
