// Metric parity: the same trainId predictions and labels (PNG files) through clcp-bench's evidence + metrics
// (suite/eval) and through mmseg 1.2.2 IoUMetric, the official cityscapesScripts evalPixelLevelSemanticLabeling
// (labelIds via the official table) and torchmetrics' MulticlassJaccardIndex (tests/parity/metric_oracle.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "oracle.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/labels.hpp"
#include "suite/eval/image_evidence.hpp"
#include "suite/eval/metrics.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

struct Pair {
  cv::Mat pred, label;     // uint8 trainIds
  std::string label_ids;   // official labelIds PNG the label came from ("" = none)
};

torch::Tensor as_tensor(const cv::Mat& m) {
  return torch::from_blob(m.data, {m.rows, m.cols}, torch::kUInt8).clone();
}

/// Synthetic labels with every case the metric has to get right: ignore pixels, a class predicted but never labelled
/// (IoU 0, counted), a class neither labelled nor predicted (NaN, excluded) and noisy predictions.
std::vector<Pair> synthetic_pairs() {
  std::vector<Pair> out;
  for (int i = 0; i < 3; ++i) {
    Stream s(21, "parity/metric", static_cast<uint64_t>(i));
    cv::Mat label(96 + 32 * i, 160, CV_8UC1), pred;
    for (int y = 0; y < label.rows; ++y)
      for (int x = 0; x < label.cols; ++x)
        label.at<uint8_t>(y, x) = static_cast<uint8_t>(((y / 16) * 7 + (x / 20) * 3 + i) % 17);  // classes 0..16
    label(cv::Rect(0, 0, 40, 12)).setTo(255);
    pred = label.clone();
    for (int y = 0; y < pred.rows; ++y)
      for (int x = 0; x < pred.cols; ++x) {
        const double u = s.uniform();
        if (u < 0.15) pred.at<uint8_t>(y, x) = static_cast<uint8_t>(s.randint(0, 17));
        else if (u < 0.17) pred.at<uint8_t>(y, x) = 17;  // class 17: predicted, never labelled; 18: absent
      }
    out.push_back({pred, label, ""});
  }
  return out;
}

/// The official labelIds of the real frames (trainIds through our table), predictions = the label shifted right by
/// 9 px with a band of wrong classes, so every labelled class is partly right.
std::vector<Pair> real_pairs(const fs::path& root) {
  std::vector<Pair> out;
  for (const char* rel : {"gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png",
                          "gtFine/val/frankfurt/frankfurt_000000_000576_gtFine_labelIds.png"}) {
    const fs::path p = root / rel;
    if (!fs::exists(p)) continue;
    const cv::Mat ids = cv::imread(p.string(), cv::IMREAD_UNCHANGED);
    REQUIRE(ids.type() == CV_8UC1);
    cv::Mat label(ids.size(), CV_8UC1);
    const auto& lut = label_id_lut();
    for (int y = 0; y < ids.rows; ++y)
      for (int x = 0; x < ids.cols; ++x) label.at<uint8_t>(y, x) = lut[ids.at<uint8_t>(y, x)];
    cv::Mat pred(label.size(), CV_8UC1, cv::Scalar(0));
    label(cv::Rect(0, 0, label.cols - 9, label.rows)).copyTo(pred(cv::Rect(9, 0, label.cols - 9, label.rows)));
    for (int y = 0; y < pred.rows; ++y)
      for (int x = 0; x < pred.cols; ++x) {
        uint8_t& v = pred.at<uint8_t>(y, x);
        if (v == 255) v = 8;                                   // a model never predicts 255
        if (y % 97 < 6) v = static_cast<uint8_t>((v + 1) % 19);  // bands of wrong classes
      }
    out.push_back({pred, label, p.string()});
  }
  return out;
}

void check_metrics(const std::vector<Pair>& pairs, const std::string& what) {
  parity::TempDir dir("metric");
  nlohmann::json spec;
  std::vector<ImageEvidence> ev;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string p = fmt::format("p{}.png", i), l = fmt::format("l{}.png", i);
    REQUIRE(cv::imwrite((dir.path / p).string(), pairs[i].pred));
    REQUIRE(cv::imwrite((dir.path / l).string(), pairs[i].label));
    spec["pairs"].push_back({{"pred", p},
                             {"label", l},
                             {"gt_label_ids", pairs[i].label_ids.empty() ? nlohmann::json() : nlohmann::json(pairs[i].label_ids)}});
    ev.push_back(image_evidence(as_tensor(pairs[i].pred), as_tensor(pairs[i].label), l, "cityscapes", ""));
  }
  std::ofstream(dir.path / "cases.json") << spec.dump();
  if (!parity::run_oracle_checked("metric_oracle.py", "'" + dir.path.string() + "'", dir.path)) return;
  const auto r = nlohmann::json::parse(parity::slurp(dir.path / "out/results.json"));
  const Metrics m = compute_metrics(ev);

  double d_mmseg = 0, d_cs = 0, d_tm = 0;
  int nan_classes = 0;
  for (int c = 0; c < kNumClasses; ++c) {
    INFO(what << " class " << c << " " << kClassNames[static_cast<size_t>(c)] << ": ours " << m.iou[c]);
    const auto& mm = r["mmseg"]["iou"][c];
    const auto& cs = r["cityscapes"]["iou"][c];
    CHECK(r["mmseg"]["area_intersect"][c].get<int64_t>() == m.intersect[c]);
    CHECK(r["mmseg"]["area_union"][c].get<int64_t>() == m.union_[c]);
    if (std::isnan(m.iou[c])) {
      ++nan_classes;
      CHECK(mm.is_null());  // absent from label and prediction: NaN in mmseg and in cityscapesScripts
      CHECK(cs.is_null());
      continue;
    }
    REQUIRE(mm.is_number());
    REQUIRE(cs.is_number());
    d_mmseg = std::max(d_mmseg, std::abs(m.iou[c] - mm.get<double>()));  // mmseg: float32 arithmetic
    d_cs = std::max(d_cs, std::abs(m.iou[c] - cs.get<double>()));        // cityscapesScripts: float64
    d_tm = std::max(d_tm, std::abs(m.iou[c] - r["torchmetrics"]["iou"][c].get<double>()));
    // The figures as the tools print them: mmseg's table ×100 to 2 decimals, cityscapesScripts "%5.3f".
    CHECK(fmt::format("{:.2f}", std::round(m.iou[c] * 1e4) / 1e2) ==
          fmt::format("{:.2f}", r["mmseg"]["iou_table"][c].get<double>()));
    CHECK(fmt::format("{:5.3f}", m.iou[c]) == r["cityscapes"]["printed"][c].get<std::string>());
  }
  CHECK(d_mmseg <= 1e-6);
  CHECK(d_cs <= 1e-12);
  CHECK(d_tm <= 1e-6);
  const auto& sum = r["mmseg"]["summary"];
  CHECK(std::abs(std::round(m.mIoU * 1e4) / 1e2 - sum["mIoU"].get<double>()) < 1e-4);
  CHECK(std::abs(std::round(m.aAcc * 1e4) / 1e2 - sum["aAcc"].get<double>()) < 1e-4);
  CHECK(std::abs(std::round(m.mAcc * 1e4) / 1e2 - sum["mAcc"].get<double>()) < 1e-4);
  const double d_mean = std::abs(m.mIoU - r["cityscapes"]["mean"].get<double>());
  CHECK(d_mean <= 1e-12);
  CHECK(fmt::format("{:5.3f}", m.mIoU) == r["cityscapes"]["printed_mean"].get<std::string>());
  WARN(fmt::format("metric parity ({}): {} images, mIoU ours {:.6f} / mmseg {:.2f} / cityscapesScripts {:.6f}; "
                   "max |IoU_c ours - mmseg| {:.2e}, - cityscapesScripts {:.2e}, - torchmetrics {:.2e}; "
                   "|mIoU ours - cityscapesScripts| {:.2e}; NaN classes {}",
                   what, pairs.size(), m.mIoU, sum["mIoU"].get<double>(), r["cityscapes"]["mean"].get<double>(),
                   d_mmseg, d_cs, d_tm, d_mean, nan_classes));
}

}  // namespace

TEST_CASE("our metrics equal mmseg IoUMetric, cityscapesScripts and torchmetrics on synthetic predictions",
          "[parity][metric]") {
  CLCP_REQUIRE_ORACLE();
  check_metrics(synthetic_pairs(), "synthetic");
}

TEST_CASE("our metrics equal mmseg IoUMetric, cityscapesScripts and torchmetrics on the real Cityscapes labels",
          "[parity][metric][realdata]") {
  const fs::path root = fs::path(CLCP_REALDATA_DIR) / "cityscapes";
  if (!fs::exists(root / "gtFine")) {
    WARN("skipped: " << root.string() << " absent (real Cityscapes label files)");
    return;
  }
  CLCP_REQUIRE_ORACLE();
  const auto pairs = real_pairs(root);
  REQUIRE(!pairs.empty());
  check_metrics(pairs, "real Cityscapes labels");
}
