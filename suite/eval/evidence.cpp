#include "suite/eval/evidence.hpp"

#include <sstream>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace {

using Counts = std::array<int64_t, kNumClasses>;

// Histogram of values in 0..K−1; others are dropped, as torch.histc(bins=K, min=0, max=K−1) on integer values.
Counts class_histogram(const torch::Tensor& v) {
  const auto kept = v.masked_select((v >= 0).logical_and(v < kNumClasses));
  const auto h = torch::bincount(kept, {}, kNumClasses).to(torch::kCPU, torch::kInt64).contiguous();
  Counts out{};
  std::copy_n(h.data_ptr<int64_t>(), kNumClasses, out.begin());
  return out;
}

Counts read_counts(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key)) fail("{}: key \"{}\" missing; rewrite the evidence file with `clcp-bench eval`", where, key);
  const auto& a = obj.at(key);
  if (!a.is_array() || a.size() != kNumClasses)
    fail("{}: \"{}\" must be an array of {} integers; rewrite the evidence file", where, key, kNumClasses);
  Counts out{};
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (!a[c].is_number_integer() || a[c].get<int64_t>() < 0)
      fail("{}: \"{}\"[{}] must be a non-negative integer; rewrite the evidence file", where, key, c);
    out[c] = a[c].get<int64_t>();
  }
  return out;
}

std::string read_string(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key) || !obj.at(key).is_string())
    fail("{}: key \"{}\" must be a string; rewrite the evidence file", where, key);
  return obj.at(key).get<std::string>();
}

}  // namespace

ImageEvidence image_evidence(const torch::Tensor& pred, const torch::Tensor& label, const std::string& id,
                             const std::string& dataset, const std::string& condition) {
  if (pred.sizes() != label.sizes() || pred.dim() != 2)
    fail("{}: prediction {} and label {} must both be [H,W] of the same size; check the label file", id,
         fmt::format("{}", fmt::join(pred.sizes(), "x")), fmt::format("{}", fmt::join(label.sizes(), "x")));
  const auto p_all = pred.to(torch::kInt64).flatten();
  const auto l_all = label.to(pred.device(), torch::kInt64).flatten();
  const auto mask = l_all != static_cast<int64_t>(kIgnoreIndex);
  const auto p = p_all.masked_select(mask), l = l_all.masked_select(mask);
  ImageEvidence ev;
  ev.id = id;
  ev.dataset = dataset;
  ev.condition = condition;
  ev.intersect = class_histogram(p.masked_select(p == l));
  ev.pred_area = class_histogram(p);
  ev.label_area = class_histogram(l);
  return ev;
}

void write_evidence_jsonl(const std::filesystem::path& path, const std::vector<ImageEvidence>& evidence) {
  std::string out;
  for (const auto& ev : evidence) {
    nlohmann::json j;  // std::map-backed: keys come out sorted
    j["id"] = ev.id;
    j["dataset"] = ev.dataset;
    j["condition"] = ev.condition;
    j["intersect"] = ev.intersect;
    j["pred_area"] = ev.pred_area;
    j["label_area"] = ev.label_area;
    out += j.dump();
    out += '\n';
  }
  write_atomic(path, out);
}

std::vector<ImageEvidence> read_evidence_jsonl(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::istringstream in(text);
  std::vector<ImageEvidence> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path.string(), n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}: not valid JSON (byte {}); fix or rewrite the evidence file", where, e.byte);
    }
    if (!j.is_object()) fail("{}: expected one JSON object per line; rewrite the evidence file", where);
    ImageEvidence ev;
    ev.id = read_string(j, "id", where);
    ev.dataset = read_string(j, "dataset", where);
    ev.condition = read_string(j, "condition", where);
    ev.intersect = read_counts(j, "intersect", where);
    ev.pred_area = read_counts(j, "pred_area", where);
    ev.label_area = read_counts(j, "label_area", where);
    for (size_t c = 0; c < kNumClasses; ++c)
      if (ev.intersect[c] > ev.pred_area[c] || ev.intersect[c] > ev.label_area[c])
        fail("{}: class {} has intersect {} above pred_area {} or label_area {}; the file is corrupt, rewrite it",
             where, c, ev.intersect[c], ev.pred_area[c], ev.label_area[c]);
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace clcp
