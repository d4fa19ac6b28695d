#include "suite/eval/metrics.hpp"

#include <cmath>
#include <limits>
#include <set>

namespace clcp {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double nanmean(const std::array<double, kNumClasses>& v) {
  double sum = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) sum += x, ++n;
  return n ? sum / n : kNaN;
}

nlohmann::json number_or_null(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

nlohmann::json numbers_or_null(const std::array<double, kNumClasses>& v) {
  auto a = nlohmann::json::array();
  for (double x : v) a.push_back(number_or_null(x));
  return a;
}

}  // namespace

nlohmann::json Metrics::to_json() const {
  nlohmann::json j;
  j["IoU"] = numbers_or_null(iou);
  j["Acc"] = numbers_or_null(acc);
  j["mIoU"] = number_or_null(mIoU);
  j["aAcc"] = number_or_null(aAcc);
  j["mAcc"] = number_or_null(mAcc);
  j["images"] = images;
  j["intersect"] = intersect;
  j["union"] = union_;
  j["label_area"] = label_area;
  auto names = nlohmann::json::array();
  for (auto n : kClassNames) names.push_back(std::string(n));
  j["classes"] = names;
  return j;
}

Metrics compute_metrics(const std::vector<ImageEvidence>& evidence, const EvidenceFilter& keep) {
  Metrics m;
  std::array<int64_t, kNumClasses> pred_area{};
  for (const auto& ev : evidence) {
    if (keep && !keep(ev)) continue;
    ++m.images;
    for (size_t c = 0; c < kNumClasses; ++c) {
      m.intersect[c] += ev.intersect[c];
      pred_area[c] += ev.pred_area[c];
      m.label_area[c] += ev.label_area[c];
    }
  }
  int64_t total_i = 0, total_label = 0;
  for (size_t c = 0; c < kNumClasses; ++c) {
    m.union_[c] = pred_area[c] + m.label_area[c] - m.intersect[c];
    m.iou[c] = m.union_[c] ? static_cast<double>(m.intersect[c]) / static_cast<double>(m.union_[c]) : kNaN;
    m.acc[c] = m.label_area[c] ? static_cast<double>(m.intersect[c]) / static_cast<double>(m.label_area[c]) : kNaN;
    total_i += m.intersect[c];
    total_label += m.label_area[c];
  }
  m.mIoU = nanmean(m.iou);
  m.mAcc = nanmean(m.acc);
  m.aAcc = total_label ? static_cast<double>(total_i) / static_cast<double>(total_label) : kNaN;
  return m;
}

nlohmann::json summarise(const std::vector<ImageEvidence>& source, const std::vector<ImageEvidence>& target) {
  const Metrics src = compute_metrics(source);
  const Metrics pooled = compute_metrics(target);
  std::set<std::string> conditions;
  for (const auto& ev : target) conditions.insert(ev.condition);
  nlohmann::json per_condition = nlohmann::json::object();
  for (const auto& cond : conditions)
    per_condition[cond] =
        compute_metrics(target, [&cond](const ImageEvidence& ev) { return ev.condition == cond; }).to_json();
  nlohmann::json j;
  j["source"] = src.to_json();
  j["target"] = {{"pooled", pooled.to_json()}, {"per_condition", per_condition}};
  const bool defined = !std::isnan(src.mIoU) && !std::isnan(pooled.mIoU) && src.mIoU != 0.0;
  j["rPD"] = defined ? nlohmann::json(pooled.mIoU / src.mIoU) : nlohmann::json(nullptr);
  return j;
}

}  // namespace clcp
