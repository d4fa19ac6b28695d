// Train-pipeline parity: clcp-bench's RandomResize → RandomCrop (cat_max_ratio retry) → RandomFlip →
// PhotoMetricDistortion (apply_train_pipeline, suite/data/transforms.hpp) against mmcv 2.1 / mmseg 1.2.2's own
// transforms fed with the same random draws (tests/parity/pipeline_oracle.py replays each clcp::Stream's raw u64s
// through numpy.random's module functions). Images and labels must be byte-identical.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>

#include "oracle.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/sample_io.hpp"
#include "suite/data/synth/render.hpp"
#include "suite/data/synth/scene.hpp"
#include "suite/data/synth/weather.hpp"
#include "suite/data/transforms.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPurposes[] = {"resize", "crop", "flip", "photometric"};
constexpr int kDrawsPerPurpose = 48;  // ≥ 22 (11 crop boxes × 2) and ≥ 9 (photometric)

/// A 512×256 street frame from the embedded generator: BGR uint8 image and trainId label, the label's top 70 %
/// overwritten with sky (10) so that most crops fail cat_max_ratio 0.75 and RandomCrop's retry loop runs.
LoadedSample synthetic_frame() {
  const synth::Scene scene = synth::make_scene(3, "cityscapes/train", 2, synth::city_style("bochum"), 512, 256);
  const synth::Frame frame = synth::render(scene);
  Stream rng(3, "parity/synth", 2);
  LoadedSample s;
  s.image = synth::apply_condition(frame, synth::Condition::kClear, 1.0, rng);
  const auto& lut = label_id_lut();
  s.label = cv::Mat(frame.label_id.size(), CV_8UC1);
  for (int y = 0; y < s.label.rows; ++y)
    for (int x = 0; x < s.label.cols; ++x) s.label.at<uint8_t>(y, x) = lut[frame.label_id(y, x)];
  s.label(cv::Rect(0, 0, s.label.cols, s.label.rows * 7 / 10)).setTo(10);
  return s;
}

struct Summary {
  int cases = 0, retried = 0, max_boxes = 0, flipped = 0, photometric_draws = 0;
  double max_image_diff = 0, max_label_diff = 0;
};

/// Runs `cases` samples of the pipeline on `sample` in C++ and through the oracle; checks every output.
std::optional<Summary> check_pipeline(const LoadedSample& sample, const TrainPipelineOptions& opts, int cases, uint64_t seed) {
  parity::TempDir dir("pipeline");
  REQUIRE(cv::imwrite((dir.path / "image.png").string(), sample.image));
  REQUIRE(cv::imwrite((dir.path / "label.png").string(), sample.label));
  nlohmann::json spec{{"image", "image.png"},
                      {"label", "label.png"},
                      {"options",
                       {{"scale", {opts.scale_w, opts.scale_h}},
                        {"ratio_range", {opts.ratio_min, opts.ratio_max}},
                        {"crop", {opts.crop_h, opts.crop_w}},
                        {"cat_max_ratio", opts.cat_max_ratio},
                        {"flip_prob", opts.flip_prob}}}};
  std::vector<TrainSample> ours;
  for (int i = 0; i < cases; ++i) {
    const uint64_t iteration = static_cast<uint64_t>(i / 4), index = static_cast<uint64_t>(i % 4);
    ours.push_back(apply_train_pipeline(sample, opts, seed, iteration, index));
    nlohmann::json draws;
    for (const char* p : kPurposes) {
      Stream s(seed, p, iteration, index);  // the stream apply_train_pipeline keys for this step
      std::vector<uint64_t> v;
      for (int k = 0; k < kDrawsPerPurpose; ++k) v.push_back(s.next_u64());
      draws[p] = v;
    }
    spec["cases"].push_back({{"name", "case" + std::to_string(i)}, {"draws", draws}});
  }
  std::ofstream(dir.path / "cases.json") << spec.dump();
  if (!parity::run_oracle_checked("pipeline_oracle.py", "'" + dir.path.string() + "'", dir.path)) return {};
  const auto results = nlohmann::json::parse(parity::slurp(dir.path / "out/results.json"));

  Summary sum;
  for (int i = 0; i < cases; ++i) {
    const std::string name = "case" + std::to_string(i);
    const auto& r = results.at(name);
    const TrainSample& t = ours[static_cast<size_t>(i)];
    const cv::Mat img = cv::imread((dir.path / "out" / (name + "_img.png")).string(), cv::IMREAD_UNCHANGED);
    const cv::Mat lbl = cv::imread((dir.path / "out" / (name + "_lbl.png")).string(), cv::IMREAD_UNCHANGED);
    INFO(name << ": oracle " << r.dump());
    CHECK(r.at("resized") == std::vector<int>{t.resized.width, t.resized.height});
    CHECK(r.at("crop_yx") == std::vector<int>{t.crop.y, t.crop.x});
    CHECK(r.at("flip").get<bool>() == t.flipped);
    REQUIRE(img.size() == t.image.size());
    REQUIRE(img.type() == t.image.type());
    REQUIRE(lbl.size() == t.label.size());
    const double di = cv::norm(img, t.image, cv::NORM_INF), dl = cv::norm(lbl, t.label, cv::NORM_INF);
    CHECK(di == 0);
    CHECK(dl == 0);
    sum.max_image_diff = std::max(sum.max_image_diff, di);
    sum.max_label_diff = std::max(sum.max_label_diff, dl);
    sum.retried += r.at("crop_boxes_drawn").get<int>() > 1;
    sum.max_boxes = std::max(sum.max_boxes, r.at("crop_boxes_drawn").get<int>());
    sum.flipped += t.flipped;
    sum.photometric_draws += static_cast<int>(r.at("draws").at("photometric").size());
    ++sum.cases;
  }
  return sum;
}

std::string describe(const Summary& s) {
  return std::to_string(s.cases) + " samples, max |ours - mmseg| image " + std::to_string(s.max_image_diff) +
         ", label " + std::to_string(s.max_label_diff) + "; crop retried in " + std::to_string(s.retried) +
         " (at most " + std::to_string(s.max_boxes) + " boxes drawn)" +
         ", flipped " + std::to_string(s.flipped) + ", photometric draws " + std::to_string(s.photometric_draws);
}

}  // namespace

TEST_CASE("the train pipeline gives mmseg's bytes on a synthetic frame given the same draws", "[parity][pipeline]") {
  CLCP_REQUIRE_ORACLE();
  TrainPipelineOptions opts;  // the thesis pipeline at the smoke scale's resize box (512, 256)
  opts.scale_w = 512;
  opts.scale_h = 256;
  const auto r = check_pipeline(synthetic_frame(), opts, 32, 11);
  if (!r) return;
  const Summary& s = *r;
  WARN("pipeline parity (synthetic 512x256): " << describe(s));
  // The samples exercise every branch: crop retries, both flip outcomes, photometric steps taken and skipped.
  CHECK(s.retried > 0);
  CHECK(s.flipped > 0);
  CHECK(s.flipped < s.cases);
}

TEST_CASE("the train pipeline gives mmseg's bytes on the real Cityscapes frame given the same draws",
          "[parity][pipeline][realdata]") {
  const fs::path root = fs::path(CLCP_REALDATA_DIR) / "cityscapes";
  if (!fs::exists(root / "leftImg8bit/train")) {
    WARN("skipped: " << root.string() << " absent (real Cityscapes sample files)");
    return;
  }
  CLCP_REQUIRE_ORACLE();
  const Split split = read_cityscapes(root, "train");
  REQUIRE(!split.records.empty());
  const LoadedSample sample = load_sample(split.records[0]);
  const auto r = check_pipeline(sample, TrainPipelineOptions{}, 12, 5);  // the full recipe: (2048, 1024)
  if (!r) return;
  const Summary& s = *r;
  WARN("pipeline parity (real Cityscapes 2048x1024, " << split.records[0].id << "): " << describe(s));
  CHECK(s.flipped > 0);
}
