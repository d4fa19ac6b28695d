// Per-image evidence (mmseg intersect_and_union) and dataset-level metrics (mmseg IoUMetric), hand-computed.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/eval/image_evidence.hpp"
#include "suite/eval/metrics.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {
ImageEvidence make(std::vector<std::array<int64_t, 4>> rows, std::string cond = "", std::string id = "x") {
  // rows: {class, intersect, pred_area, label_area}
  ImageEvidence e;
  e.id = std::move(id);
  e.dataset = cond.empty() ? "cityscapes" : "acdc";
  e.condition = std::move(cond);
  for (const auto& r : rows) {
    e.intersect[r[0]] = r[1];
    e.pred_area[r[0]] = r[2];
    e.label_area[r[0]] = r[3];
  }
  return e;
}

fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("clcp_eval_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("Evidence on a 4x4 image excludes label-255 pixels everywhere and drops out-of-range values") {
  const auto pred = torch::tensor({0, 0, 1, 1, 0, 2, 1, 1, 3, 3, 200, 0, 0, 1, 2, 2}, torch::kUInt8).view({4, 4});
  const auto label =
      torch::tensor({0, 0, 1, 255, 0, 0, 1, 1, 3, 255, 2, 0, 255, 1, 2, 30}, torch::kUInt8).view({4, 4});
  const auto ev = image_evidence(pred, label, "img", "cityscapes", "");
  const std::array<int64_t, 4> I{4, 4, 1, 1}, P{4, 4, 3, 1}, L{5, 4, 2, 1};
  for (int c = 0; c < 4; ++c) {
    CHECK(ev.intersect[c] == I[c]);
    CHECK(ev.pred_area[c] == P[c]);
    CHECK(ev.label_area[c] == L[c]);
  }
  for (int c = 4; c < kNumClasses; ++c) CHECK((ev.intersect[c] == 0 && ev.pred_area[c] == 0 && ev.label_area[c] == 0));
  CHECK(ev.id == "img");
  CHECK_THROWS_AS(image_evidence(pred, label.slice(0, 0, 3), "img", "cityscapes", ""), UserError);
}

TEST_CASE("Metrics follow IoUMetric: absent classes are NaN and excluded, predicted-only and missed classes count 0") {
  // class 0: I 6 P 8 L 10 → IoU 6/12, Acc 0.6;  class 1: predicted only (P 4) → IoU 0, Acc NaN;
  // class 2: never predicted (L 5) → IoU 0, Acc 0;  class 3: perfect → 1;  class 4: predicted only (P 3) → 0.
  const auto m = compute_metrics({make({{0, 6, 8, 10}, {1, 0, 4, 0}, {2, 0, 0, 5}, {3, 3, 3, 3}, {4, 0, 3, 0}})});
  CHECK(m.iou[0] == Approx(0.5));
  CHECK(m.iou[1] == 0.0);
  CHECK(m.iou[2] == 0.0);
  CHECK(m.iou[3] == 1.0);
  CHECK(m.iou[4] == 0.0);
  for (int c = 5; c < kNumClasses; ++c) CHECK(std::isnan(m.iou[c]));
  CHECK(m.mIoU == Approx(1.5 / 5));
  CHECK(std::isnan(m.acc[1]));
  CHECK(m.acc[0] == Approx(0.6));
  CHECK(m.mAcc == Approx(1.6 / 3));
  CHECK(m.aAcc == Approx(9.0 / 18));
  CHECK(m.union_[0] == 12);
  CHECK(m.images == 1);

  const auto j = m.to_json();
  CHECK(j["IoU"][5].is_null());
  CHECK(j["Acc"][1].is_null());
  CHECK(j["mIoU"].get<double>() == Approx(0.3));
  CHECK(j["union"][0].get<int64_t>() == 12);
  CHECK(j["classes"][0] == "road");
}

TEST_CASE("Metrics are accumulated over the whole dataset, not averaged per image") {
  // A: class 0 perfect on 1 pixel (IoU 1). B: class 0 1 of 99 pixels found, the rest predicted as class 1.
  const auto a = make({{0, 1, 1, 1}});
  const auto b = make({{0, 1, 1, 99}, {1, 0, 98, 0}});
  const auto m = compute_metrics({a, b});
  CHECK(m.iou[0] == Approx(2.0 / 100));  // I 2 / U (2 + 100 − 2)
  const double per_image_mean = (compute_metrics({a}).iou[0] + compute_metrics({b}).iou[0]) / 2;
  CHECK(per_image_mean == Approx((1.0 + 1.0 / 99) / 2));
  CHECK(std::abs(m.iou[0] - per_image_mean) > 0.4);
  CHECK(m.images == 2);
  // A filter selects images.
  CHECK(compute_metrics({a, b}, [](const ImageEvidence& e) { return e.label_area[0] == 1; }).iou[0] == 1.0);
}

TEST_CASE("Metrics of no images are NaN and written as null") {
  const auto m = compute_metrics({});
  CHECK(std::isnan(m.mIoU));
  CHECK(std::isnan(m.aAcc));
  CHECK(m.to_json()["mIoU"].is_null());
}

TEST_CASE("summarise pools the target conditions into one metric and gives rPD = target mIoU / source mIoU") {
  // source: class 0 I4 P4 L5 → 0.8; class 1 I1 P2 L1 → 0.5; mIoU 0.65.
  const std::vector<ImageEvidence> source{make({{0, 4, 4, 5}, {1, 1, 2, 1}})};
  // fog: class 0 I2 P4 L2 → 0.5. night: class 0 I1 P1 L3 → 1/3, class 1 P2 → 0.
  // pooled: class 0 I3 P5 L5 → 3/7, class 1 → 0; mIoU 3/14.
  const std::vector<ImageEvidence> target{make({{0, 2, 4, 2}}, "fog", "f"),
                                          make({{0, 1, 1, 3}, {1, 0, 2, 0}}, "night", "n")};
  const auto j = summarise(source, target);
  CHECK(j["source"]["mIoU"].get<double>() == Approx(0.65));
  CHECK(j["target"]["pooled"]["mIoU"].get<double>() == Approx(3.0 / 14));
  CHECK(j["target"]["pooled"]["images"] == 2);
  CHECK(j["target"]["per_condition"]["fog"]["mIoU"].get<double>() == Approx(0.5));
  CHECK(j["target"]["per_condition"]["night"]["mIoU"].get<double>() == Approx(1.0 / 6));
  CHECK(j["rPD"].get<double>() == Approx((3.0 / 14) / 0.65));
  CHECK(summarise({}, target)["rPD"].is_null());
  CHECK(summarise({make({{0, 0, 3, 3}})}, target)["rPD"].is_null());  // source mIoU 0
}

TEST_CASE("Evidence JSONL round-trips and rewrites to identical bytes, bad lines name the file and line") {
  const auto dir = temp_dir();
  auto e1 = make({{0, 4, 4, 5}, {18, 1, 2, 1}}, "fog", "fog/val/GOPR0475/GOPR0475_frame_000041_rgb_anon.png");
  auto e2 = make({{3, 1000000000000, 1000000000001, 1000000000002}}, "", "frankfurt/x_leftImg8bit.png");
  write_evidence_jsonl(dir / "a.jsonl", {e1, e2});
  const auto text = read_file(dir / "a.jsonl");
  CHECK(text.rfind("{\"condition\":\"fog\",\"dataset\":\"acdc\",\"id\":", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  const auto back = read_evidence_jsonl(dir / "a.jsonl");
  REQUIRE(back.size() == 2);
  CHECK(back[0] == e1);
  CHECK(back[1] == e2);
  write_evidence_jsonl(dir / "b.jsonl", back);
  CHECK(read_file(dir / "b.jsonl") == text);

  write_atomic(dir / "bad.jsonl", text + "{\"id\": 3}\n");
  try {
    read_evidence_jsonl(dir / "bad.jsonl");
    FAIL("expected a UserError");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("bad.jsonl:3") != std::string::npos);
  }
  write_atomic(dir / "bad2.jsonl", "not json\n");
  CHECK_THROWS_AS(read_evidence_jsonl(dir / "bad2.jsonl"), UserError);
  fs::remove_all(dir);
}
