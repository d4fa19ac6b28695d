#include "suite/eval/evidence.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace {

using Counts = std::array<int64_t, kNumClasses>;

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
