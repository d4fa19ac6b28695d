// clcp::synth: determinism, the exact Cityscapes/ACDC layout, label contracts and the physics of the conditions.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/synth/render.hpp"
#include "suite/data/synth/scene.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/data/synth/weather.hpp"

namespace fs = std::filesystem;
using clcp::synth::SynthOptions;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / fmt::format("clcp_test_synth_{}_{}", name, ::getpid());
  fs::remove_all(d);
  return d;
}

SynthOptions small(const fs::path& out, uint64_t seed = 3) {
  SynthOptions o;
  o.out = out;
  o.seed = seed;
  o.width = 128;
  o.height = 64;
  o.train_images = 3;
  o.val_images = 2;
  o.acdc_val_per_condition = 2;
  o.threads = 2;
  o.a2d2.scenes = 0;  // the A2D2 output has its own tests (test_synth_a2d2.cpp)
  return o;
}

/// relative path → sha256 of every file under root.
std::map<std::string, std::string> hashes(const fs::path& root) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) m[fs::relative(e.path(), root).string()] = clcp::sha256_file(e.path());
  return m;
}

cv::Mat read(const fs::path& p, int flags) {
  cv::Mat m = cv::imread(p.string(), flags);
  REQUIRE_FALSE(m.empty());
  return m;
}

}  // namespace

TEST_CASE("synth: the same seed gives byte-identical files for any thread count, another seed gives other images") {
  const fs::path a = fresh_dir("a"), b = fresh_dir("b"), c = fresh_dir("c");
  clcp::synth::generate(small(a));
  auto ob = small(b);
  ob.threads = 1;
  clcp::synth::generate(ob);
  clcp::synth::generate(small(c, 4));
  const auto ha = hashes(a), hb = hashes(b), hc = hashes(c);
  REQUIRE(ha.size() == hb.size());
  CHECK(ha == hb);
  REQUIRE(ha.size() == hc.size());
  int same_images = 0;
  for (const auto& [rel, h] : ha)
    if (rel.find("leftImg8bit.png") != std::string::npos || rel.find("rgb_anon.png") != std::string::npos)
      same_images += hc.at(rel) == h;
  CHECK(same_images == 0);
  // Regenerating into an earlier synth output replaces it byte for byte.
  clcp::synth::generate(small(a));
  CHECK(hashes(a) == ha);
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST_CASE("synth: the files follow the Cityscapes and ACDC layouts exactly") {
  const fs::path out = fresh_dir("layout");
  const auto summary = clcp::synth::generate(small(out));
  std::set<std::string> expected = {"SYNTH.json"};
  for (const std::string city : {"aachen", "bochum", "bremen"}) {
    const std::string stem = city + "_000000_000019";
    expected.insert("cityscapes/leftImg8bit/train/" + city + "/" + stem + "_leftImg8bit.png");
    expected.insert("cityscapes/gtFine/train/" + city + "/" + stem + "_gtFine_labelIds.png");
    expected.insert("cityscapes/gtFine/train/" + city + "/" + stem + "_gtFine_labelTrainIds.png");
  }
  for (const std::string city : {"frankfurt", "lindau"}) {
    const std::string stem = city + "_000000_000019";
    expected.insert("cityscapes/leftImg8bit/val/" + city + "/" + stem + "_leftImg8bit.png");
    expected.insert("cityscapes/gtFine/val/" + city + "/" + stem + "_gtFine_labelIds.png");
    expected.insert("cityscapes/gtFine/val/" + city + "/" + stem + "_gtFine_labelTrainIds.png");
  }
  const std::map<std::string, std::pair<std::string, std::string>> seqs = {
      {"fog", {"GOPR0475", "GOPR0477"}}, {"night", {"GOPR0351", "GOPR0356"}},
      {"rain", {"GOPR0400", "GOPR0402"}}, {"snow", {"GOPR0122", "GOPR0176"}}};
  for (const auto& [cond, pair] : seqs) {
    for (const std::string seq : {pair.first, pair.second}) {
      const std::string stem = seq + "_frame_000040";
      expected.insert("acdc/rgb_anon/" + cond + "/val/" + seq + "/" + stem + "_rgb_anon.png");
      expected.insert("acdc/rgb_anon/" + cond + "/val_ref/" + seq + "/" + stem + "_rgb_ref_anon.png");
      expected.insert("acdc/gt/" + cond + "/val/" + seq + "/" + stem + "_gt_labelIds.png");
      expected.insert("acdc/gt/" + cond + "/val/" + seq + "/" + stem + "_gt_labelTrainIds.png");
    }
  }
  std::set<std::string> got;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.is_regular_file()) got.insert(fs::relative(e.path(), out).string());
  CHECK(got == expected);
  CHECK(summary.files_written == static_cast<int>(expected.size()));  // 15 + 15 + 32 + 1
  const auto j = clcp::read_json(out / "SYNTH.json");
  CHECK(j["seed"] == 3);
  CHECK(j["generator_version"] == clcp::synth::kGeneratorVersion);
  CHECK(j["counts"]["cityscapes"]["cities"]["train"]["bochum"] == 1);
  CHECK(j["class_fraction"].size() == 19);
  fs::remove_all(out);
}

TEST_CASE("synth: images and labels agree in size, labels hold trainIds and labelIds that map onto them") {
  const fs::path out = fresh_dir("labels");
  clcp::synth::generate(small(out));
  const auto& lut = clcp::label_id_lut();
  int pairs = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string p = e.path().string();
    const auto pos = p.find("_gtFine_labelTrainIds.png") != std::string::npos ? p.find("_gtFine_labelTrainIds.png")
                                                                                 : p.find("_gt_labelTrainIds.png");
    if (pos == std::string::npos) continue;
    const bool cs = p.find("_gtFine_") != std::string::npos;
    const std::string ids_path = p.substr(0, pos) + (cs ? "_gtFine_labelIds.png" : "_gt_labelIds.png");
    std::string img_path = p.substr(0, pos) + (cs ? "_leftImg8bit.png" : "_rgb_anon.png");
    img_path.replace(img_path.find(cs ? "/gtFine/" : "/gt/"), cs ? 8 : 4, cs ? "/leftImg8bit/" : "/rgb_anon/");
    const cv::Mat train = read(p, cv::IMREAD_UNCHANGED), ids = read(ids_path, cv::IMREAD_UNCHANGED);
    const cv::Mat img = read(img_path, cv::IMREAD_UNCHANGED);
    REQUIRE(train.type() == CV_8UC1);
    REQUIRE(ids.type() == CV_8UC1);
    REQUIRE(img.type() == CV_8UC3);
    CHECK(train.size() == cv::Size(128, 64));
    CHECK(ids.size() == train.size());
    CHECK(img.size() == train.size());
    bool values_ok = true, mapped_ok = true;
    for (int v = 0; v < train.rows; ++v)
      for (int u = 0; u < train.cols; ++u) {
        const uint8_t t = train.at<uint8_t>(v, u);
        values_ok &= t < 19 || t == 255;
        mapped_ok &= lut[ids.at<uint8_t>(v, u)] == t;
      }
    CHECK(values_ok);
    CHECK(mapped_ok);
    // The ego-vehicle bonnet: labelId 1 (ignored) across the whole bottom row.
    CHECK(cv::countNonZero(train.row(63) != 255) == 0);
    CHECK(cv::countNonZero(ids.row(63) != 1) == 0);
    ++pairs;
  }
  CHECK(pairs == 5 + 8);
  fs::remove_all(out);
}

TEST_CASE("synth: a moderate set contains all 19 classes, with road, building, vegetation and sky the largest") {
  const fs::path out = fresh_dir("classes");
  SynthOptions o = small(out);
  o.width = 256;
  o.height = 128;
  o.train_images = 12;
  o.val_images = 0;
  o.acdc_val_per_condition = 0;
  const auto s = clcp::synth::generate(o);
  for (int k = 0; k < clcp::kNumClasses; ++k) {
    INFO("class " << clcp::kClassNames[static_cast<size_t>(k)]);
    CHECK(s.images_with_class[static_cast<size_t>(k)] > 0);
  }
  CHECK(clcp::read_json(out / "SYNTH.json")["all_classes_present"] == true);
  const auto& f = s.class_fraction;
  CHECK(f[0] > 0.1);                           // road
  CHECK(f[0] > f[11]);                         // road > person
  CHECK(f[2] + f[8] > 0.1);                    // building + vegetation
  CHECK(f[10] > f[5]);                         // sky > pole
  CHECK(f[5] < 0.05);                          // poles are thin
  double total = s.ignored_fraction;
  for (double x : f) total += x;
  CHECK(total == Approx(1.0));
  fs::remove_all(out);
}

TEST_CASE("synth: fog follows Koschmieder — far pixels are closer to the airlight, the sky is pure airlight") {
  using namespace clcp::synth;
  const Scene scene = make_scene(5, "acdc/fog", 0, city_style("acdc-fog"), 256, 128);
  const Frame frame = render(scene);
  clcp::Stream r1(5, "test"), r2(5, "test");
  const cv::Mat3b clear = apply_condition(frame, Condition::kClear, 1.0, r1);
  const cv::Mat3b fog = apply_condition(frame, Condition::kFog, 1.0, r2);
  // All sky pixels (depth 1e4, t = exp(−300) = 0) carry the same airlight colour A.
  cv::Vec3b airlight;
  bool found = false, uniform = true;
  double near_fog = 0, near_clear = 0, far_fog = 0, far_clear = 0;
  int n_near = 0, n_far = 0;
  for (int v = 0; v < fog.rows; ++v)
    for (int u = 0; u < fog.cols; ++u) {
      const float d = frame.depth(v, u);
      if (d >= kSkyDepth) {
        if (!found) { airlight = fog(v, u); found = true; }
        uniform &= fog(v, u) == airlight;
      }
    }
  REQUIRE(found);
  CHECK(uniform);
  auto dist = [&](const cv::Vec3b& p) {
    return std::abs(p[0] - airlight[0]) + std::abs(p[1] - airlight[1]) + std::abs(p[2] - airlight[2]);
  };
  for (int v = 0; v < fog.rows; ++v)
    for (int u = 0; u < fog.cols; ++u) {
      const float d = frame.depth(v, u);
      if (d > 2 && d < 10) { near_fog += dist(fog(v, u)); near_clear += dist(clear(v, u)); ++n_near; }
      if (d > 40 && d < 1000) { far_fog += dist(fog(v, u)); far_clear += dist(clear(v, u)); ++n_far; }
    }
  REQUIRE(n_near > 0);
  REQUIRE(n_far > 0);
  // Remaining contrast ≈ t: near (≤ 10 m) t ≥ exp(−0.3) = 0.74, far (≥ 40 m) t ≤ exp(−1.2) = 0.30.
  CHECK(near_fog / near_clear > 0.6);
  CHECK(far_fog / far_clear < 0.4);
  // Labels do not depend on the condition (they come from the frame), and the bonnet is nearest.
  CHECK(frame.depth(127, 128) == Approx(1.5f));
}

TEST_CASE("synth: a night render of a scene is darker than its clear reference, snow brightens the ground") {
  const fs::path out = fresh_dir("night");
  SynthOptions o = small(out);
  o.train_images = 0;
  o.val_images = 0;
  clcp::synth::generate(o);
  const fs::path night = out / "acdc/rgb_anon/night/val/GOPR0351/GOPR0351_frame_000040_rgb_anon.png";
  const fs::path ref = out / "acdc/rgb_anon/night/val_ref/GOPR0351/GOPR0351_frame_000040_rgb_ref_anon.png";
  const double mn = cv::mean(read(night, cv::IMREAD_GRAYSCALE))[0];
  const double mc = cv::mean(read(ref, cv::IMREAD_GRAYSCALE))[0];
  CHECK(mn < 0.75 * mc);
  const fs::path snow = out / "acdc/rgb_anon/snow/val/GOPR0122/GOPR0122_frame_000040_rgb_anon.png";
  const fs::path snow_ref = out / "acdc/rgb_anon/snow/val_ref/GOPR0122/GOPR0122_frame_000040_rgb_ref_anon.png";
  const cv::Mat lab = read(out / "acdc/gt/snow/val/GOPR0122/GOPR0122_frame_000040_gt_labelTrainIds.png",
                           cv::IMREAD_UNCHANGED);
  const cv::Mat ground = (lab == 1) | (lab == 9);  // sidewalk, terrain
  REQUIRE(cv::countNonZero(ground) > 0);
  CHECK(cv::mean(read(snow, cv::IMREAD_GRAYSCALE), ground)[0] >
        cv::mean(read(snow_ref, cv::IMREAD_GRAYSCALE), ground)[0] + 20);
  fs::remove_all(out);
}

TEST_CASE("synth: bad options and foreign output folders are refused with a one-line error") {
  const fs::path out = fresh_dir("bad");
  SynthOptions o = small(out);
  o.width = 8;
  CHECK_THROWS_AS(clcp::synth::generate(o), clcp::UserError);
  o = small(out);
  o.severity = -1;
  CHECK_THROWS_AS(clcp::synth::generate(o), clcp::UserError);
  fs::create_directories(out);
  clcp::write_atomic(out / "mine.txt", "user data");
  CHECK_THROWS_WITH(clcp::synth::generate(small(out)), Catch::Contains("holds no SYNTH.json"));
  CHECK(fs::exists(out / "mine.txt"));
  fs::remove_all(out);
}

TEST_CASE("synth: default options (timing, run by hand)", "[.][synth-timing]") {
  const fs::path out = fresh_dir("default");
  SynthOptions o;
  o.out = out;
  const auto s = clcp::synth::generate(o);
  WARN("default synth: " << s.files_written << " files in " << s.wall_seconds << " s");
  for (int k = 0; k < 19; ++k)
    WARN(clcp::kClassNames[static_cast<size_t>(k)] << ": " << s.class_fraction[static_cast<size_t>(k)] << " in "
                                                   << s.images_with_class[static_cast<size_t>(k)] << " images");
  fs::remove_all(out);
}
