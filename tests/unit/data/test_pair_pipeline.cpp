// The per-sample pair pipeline (suite/data/a2d2_sample.hpp): the crop draw, the point filter on the raw float
// row/col at the crop borders, reflectance scales, the retry rule and its limit, the val/train streams, and the real
// A2D2 lidar file paired with the real camera frame through reader → crop.
#include <catch2/catch.hpp>

#include <opencv2/imgproc.hpp>
#include <set>

#include "a2d2_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using clcp::test::A2D2Writer;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string pipeline_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

LidarCloud cloud_of(const std::vector<std::array<double, 2>>& row_col) {
  LidarCloud c;
  c.n = static_cast<int64_t>(row_col.size());
  for (size_t i = 0; i < row_col.size(); ++i) {
    c.points.insert(c.points.end(), {1.0 * i, 2.0 * i, 3.0 * i});
    c.reflectance.push_back(static_cast<double>(i));
    c.row.push_back(row_col[i][0]);
    c.col.push_back(row_col[i][1]);
  }
  return c;
}

// A root of `n` pairs in one scene; `rows` gives each lidar file's row value (all its points share it).
PairSplit split_with_rows(const fs::path& dir, const std::vector<double>& rows) {
  A2D2Writer w{dir};
  clcp::test::write_cams_lidars(dir / "cams_lidars.json");
  for (size_t f = 0; f < rows.size(); ++f) {
    auto m = clcp::test::lidar_members(6);
    for (auto& mem : m)
      if (mem.key == "row" || mem.key == "col") {
        std::vector<double> v(6, mem.key == "row" ? rows[f] : 40.0);
        mem.array.data.assign(reinterpret_cast<const char*>(v.data()), 48);
      }
    w.lidar("20181107_132300", static_cast<int>(f), m);
    w.camera("20181107_132300", static_cast<int>(f), static_cast<int>(f));
  }
  A2D2Options o;
  o.val_ratio = 0;
  return a2d2_split(read_a2d2(dir, o), "train");
}

}  // namespace

TEST_CASE("crops are drawn as NumPy's exclusive randint: left in [0, W-crop-1], then top in [0, H-crop-1]",
          "[data][a2d2][crop]") {
  std::set<int> lefts, tops;
  Stream s(7, "test/crop");
  for (int i = 0; i < 400; ++i) {
    const CropBox b = draw_crop(12, 10, 8, s);
    CHECK(b.size == 8);
    lefts.insert(b.left);
    tops.insert(b.top);
  }
  CHECK(lefts == std::set<int>{0, 1, 2, 3});  // W − crop = 4: randint(0, 4)
  CHECK(tops == std::set<int>{0, 1});         // H − crop = 2
  // The draw order is left, then top, from one stream.
  Stream a(9, "test/crop"), b(9, "test/crop");
  const CropBox box = draw_crop(1920, 1208, 896, a);
  CHECK(box.left == b.randint(0, 1024));
  CHECK(box.top == b.randint(0, 312));
  // The crop side: 896 scaled to the camera width, or as given; it must leave room for NumPy's randint.
  PairPipelineOptions o;
  CHECK(crop_side(o, synth::a2d2_camera(1.0)) == 896);
  CHECK(crop_side(o, synth::a2d2_camera(0.5)) == 448);
  o.crop = 604;
  CHECK_THAT(pipeline_error([&] { crop_side(o, synth::a2d2_camera(0.5)); }),
             Catch::Contains("crop 604: expected 1 ≤ crop < min(width, height) = 604 of the 960x604 camera"));
}

TEST_CASE("the point filter keeps top <= row < top+crop and left <= col < left+crop on the raw float row and col",
          "[data][a2d2][crop]") {
  const CropBox box{10, 20, 8};  // left 10, top 20, size 8
  const LidarCloud c = cloud_of({{20.0, 10.0},        // 0: top-left corner, kept
                                 {19.999999, 12.0},   // 1: just above, dropped
                                 {27.999999, 17.9},   // 2: last row and column, kept
                                 {28.0, 12.0},        // 3: first row below, dropped
                                 {22.0, 18.0},        // 4: first column right of it, dropped
                                 {22.0, 9.9999999},   // 5: left of it, dropped
                                 {23.5, 14.25},       // 6: inside, kept
                                 {-0.0497, 12.0}});   // 7: A2D2's slightly negative row, dropped here
  CHECK(points_in_crop(c, box) == std::vector<int64_t>{0, 2, 6});
  CHECK(points_in_crop(c, CropBox{0, 0, 100}) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});  // row −0.05 < 0
  // Points: x, y, z as float32 and reflectance raw or ÷255; 3-D coordinates are not changed by the crop.
  LidarCloud r = cloud_of({{21, 11}, {22, 12}});
  r.reflectance = {251, 7};
  r.points = {1.0000000001, -2.5, 0.125, 40.0, 1e-3, -1.75};
  const torch::Tensor raw = crop_points(r, {0, 1}, ReflectanceScale::kRaw);
  CHECK(raw.sizes() == std::vector<int64_t>{2, 4});
  CHECK(raw.dtype() == torch::kFloat32);
  CHECK(raw[0][0].item<float>() == 1.0f);
  CHECK(raw[0][3].item<float>() == 251.0f);
  CHECK(raw[1][2].item<float>() == -1.75f);
  const torch::Tensor unit = crop_points(r, {1}, ReflectanceScale::kUnit);
  CHECK(unit[0][3].item<float>() == static_cast<float>(7.0 / 255.0));
  CHECK(reflectance_scale_from_name("unit") == ReflectanceScale::kUnit);
  CHECK_THAT(pipeline_error([] { reflectance_scale_from_name("percent"); }), Catch::Contains("expected raw"));
}

TEST_CASE("an empty crop moves to the next record, wrapping around, and gives up after 100 records in one line",
          "[data][a2d2][crop]") {
  TempDir tmp;
  // Records 0 and 2 hold points only at row −5 (never inside a crop); record 1 at (row 30, col 40), inside every
  // 58-px crop of the 96×60 camera (left ∈ [0, 37], top ∈ [0, 1]).
  PairSplit split = split_with_rows(tmp.path(), {-5, 30, -5});
  const Undistorter und(split.camera);
  PairPipelineOptions o;
  o.crop = 58;
  const PairSample s0 = load_pair_sample(split, und, o, 0, PairMode::kTrain, 1, 0, 0);
  CHECK(s0.record == 1);
  CHECK(s0.tries == 2);
  CHECK(s0.points.size(0) == 6);
  CHECK(s0.image.sizes() == std::vector<int64_t>{3, 224, 224});
  const PairSample s2 = load_pair_sample(split, und, o, 2, PairMode::kTrain, 1, 0, 0);
  CHECK(s2.record == 1);  // 2 → 0 → 1 (mod n)
  CHECK(s2.tries == 3);
  TempDir tmp2;
  PairSplit none = split_with_rows(tmp2.path(), {-5, -5});
  const Undistorter und2(none.camera);
  CHECK(pipeline_error([&] { load_pair_sample(none, und2, o, 1, PairMode::kTrain, 1, 0, 0); }) ==
        none.records[1].lidar.string() +
            ": no lidar point inside the 58-px crop in 100 consecutive records from here (the thesis's retry limit); "
            "the point clouds are empty or their row/col do not match the 96x60 camera — check the data or use a "
            "larger crop");
  o.max_tries = 1;
  CHECK_THAT(pipeline_error([&] { load_pair_sample(split, und, o, 0, PairMode::kTrain, 1, 0, 0); }),
             Catch::Contains("in 1 consecutive records"));
}

TEST_CASE("val crops come from a fixed stream: the same for every seed and epoch, train crops differ by seed",
          "[data][a2d2][crop]") {
  TempDir tmp;
  A2D2Writer w{tmp.path()};
  clcp::test::write_cams_lidars(tmp.path() / "cams_lidars.json");
  for (int f = 0; f < 3; ++f) w.pair("20181107_132300", f, 400);
  A2D2Options ao;
  ao.val_ratio = 0;
  const PairSplit split = a2d2_split(read_a2d2(tmp.path(), ao), "train");
  const Undistorter und(split.camera);
  PairPipelineOptions o;
  o.crop = 30;
  const auto a = load_pair_sample(split, und, o, 1, PairMode::kVal, 1, 0, 1);
  const auto b = load_pair_sample(split, und, o, 1, PairMode::kVal, 999, 7, 1);
  CHECK(a.crop.left == b.crop.left);
  CHECK(a.crop.top == b.crop.top);
  CHECK(a.image.equal(b.image));
  CHECK(a.points.equal(b.points));
  Stream fixed(kValCropSeed, "a2d2/val-crop", 0, 1);
  const CropBox expect = draw_crop(96, 60, 30, fixed);
  CHECK(a.crop.left == expect.left);
  CHECK(a.crop.top == expect.top);
  int differ = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const auto t = load_pair_sample(split, und, o, 1, PairMode::kTrain, seed, 0, 1);
    Stream s(seed, "a2d2/crop", 0, 1);
    const CropBox e = draw_crop(96, 60, 30, s);
    CHECK(t.crop.left == e.left);
    CHECK(t.crop.top == e.top);
    differ += t.crop.left != a.crop.left || t.crop.top != a.crop.top;
  }
  CHECK(differ >= 6);
  // The image: undistort → crop → INTER_LINEAR resize → (v − mean) / std, RGB.
  cv::Mat rgb;
  cv::cvtColor(cv::imread(split.records[1].camera.string()), rgb, cv::COLOR_BGR2RGB);
  const cv::Mat small = crop_and_resize(und.apply(rgb), a.crop, 224);
  const cv::Vec3b px = small.at<cv::Vec3b>(100, 37);
  CHECK(a.image[0][100][37].item<float>() == (static_cast<float>(px[0]) - 123.675f) / 58.395f);
  CHECK(a.image[2][100][37].item<float>() == (static_cast<float>(px[2]) - 103.53f) / 57.375f);
}

TEST_CASE("the real A2D2 lidar file and the real camera frame go through reader, undistortion and crop",
          "[data][a2d2][realdata]") {
  const fs::path real = fs::path(CLCP_REALDATA_DIR) / "a2d2";
  const fs::path npz = real / "camera_lidar_semantic_bboxes/20180810_142822/lidar/cam_front_center/"
                              "20180810142822_lidar_frontcenter_000015196.npz";
  const fs::path png = real / "camera_lidar_semantic/20181107_133258/camera/cam_front_center/"
                              "20181107133258_camera_frontcenter_000000250.png";
  if (!fs::exists(npz) || !fs::exists(png)) {
    WARN("skipped: the real A2D2 samples are absent under " << real.string());
    return;
  }
  // No complete real A2D2 frame is public (SOURCES.md §2): the lidar file (scene 20180810_142822, frame 15196) is
  // paired with a camera frame of ANOTHER scene (20181107_133258, frame 250) under the name the lidar file implies,
  // so the files are real but the pair is not one moment.
  TempDir tmp;
  const fs::path root = tmp.path() / "camera_lidar_semantic";
  fs::create_directories(root / "20180810_142822/lidar/cam_front_center");
  fs::create_directories(root / "20180810_142822/camera/cam_front_center");
  fs::create_symlink(npz, root / "20180810_142822/lidar/cam_front_center" / npz.filename());
  fs::create_symlink(png, root / "20180810_142822/camera/cam_front_center/20180810142822_camera_frontcenter_000015196.png");
  fs::create_symlink(real / "cams_lidars.json", tmp.path() / "cams_lidars.json");
  A2D2Options ao;
  const A2D2Dataset d = read_a2d2(root, ao);
  REQUIRE(d.pairs.size() == 1);
  CHECK(d.train.size() == 1);  // floor(1·0.15) = 0
  const PairSplit split = a2d2_split(d, "train");
  const Undistorter und(split.camera);
  PairPipelineOptions o;
  const PairSample s = load_pair_sample(split, und, o, 0, PairMode::kTrain, 0, 0, 0);
  CHECK(s.crop.size == 896);
  CHECK(s.crop.left >= 0);
  CHECK(s.crop.left <= 1023);
  CHECK(s.crop.top <= 311);
  CHECK(s.image.sizes() == std::vector<int64_t>{3, 224, 224});
  // Known answer: the kept points are exactly the raw rows inside the crop, as float32, reflectance raw.
  const LidarCloud c = read_lidar_cloud(npz);
  CHECK(c.n == 8196);
  const std::vector<int64_t> keep = points_in_crop(c, s.crop);
  REQUIRE(s.points.size(0) == static_cast<int64_t>(keep.size()));
  for (size_t k = 0; k < keep.size(); k += 97) {
    const size_t i = static_cast<size_t>(keep[k]);
    CHECK(s.points[static_cast<int64_t>(k)][0].item<float>() == static_cast<float>(c.points[3 * i]));
    CHECK(s.points[static_cast<int64_t>(k)][3].item<float>() == static_cast<float>(c.reflectance[i]));
    CHECK(c.row[i] >= s.crop.top);
    CHECK(c.row[i] < s.crop.top + 896);
  }
  WARN("real A2D2 crop at (left " << s.crop.left << ", top " << s.crop.top << ") keeps " << keep.size() << " of 8196 points ("
                                   << 100.0 * keep.size() / 8196 << " %; the thesis reports about 35 % on average)");
  CHECK(keep.size() > 800);
}
