#include "suite/results/cell_progress.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parse_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return json();
  return json::parse(in, nullptr, false);
}

// The last complete JSON line of a JSONL file (a line being appended may be partial).
json last_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  json last;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) last = std::move(j);
  }
  return last;
}

double number_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return std::numeric_limits<double>::quiet_NaN();
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

CellProgress read_cell_progress(const fs::path& dir) {
  CellProgress c;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return c;
  const json spec = parse_file(dir / "spec.json");
  const double max_iters = number_at(spec, {"recipe", "train", "max_iters"});
  const double batch = number_at(spec, {"recipe", "train", "batch_size"});
  if (std::isfinite(max_iters)) c.max_iters = static_cast<int64_t>(max_iters);
  const json log = last_line(dir / "train_log.jsonl");
  if (log.is_object() && log.contains("iter") && log["iter"].is_number_integer()) c.iter = log["iter"].get<int64_t>();
  c.pretrain = spec.is_object() && spec.value("kind", "") == "pretrain";
  if (c.pretrain) {
    const double epochs = number_at(spec, {"recipe", "train", "epochs"});
    if (std::isfinite(epochs)) c.epochs = static_cast<int64_t>(epochs);
    const double e = number_at(log, {"epoch"}), s = number_at(log, {"step"});
    if (std::isfinite(e)) c.epoch = static_cast<int64_t>(e);
    if (std::isfinite(s)) c.step = static_cast<int64_t>(s);
    std::ifstream in(dir / "pretrain_log.jsonl");
    for (std::string line; std::getline(in, line);)
      if (json::parse(line, nullptr, false).is_object()) ++c.epochs_done;
  }

  if (!fs::exists(dir / "status.json")) {
    c.state = "interrupted";
    c.error = "the cell stopped before it wrote its first status";
    return c;
  }
  const json st = parse_file(dir / "status.json");
  if (!st.is_object() || !st.contains("state") || !st["state"].is_string()) {
    c.state = "failed";
    c.error = (dir / "status.json").string() + " is unreadable";
    return c;
  }
  c.state = st["state"];
  c.stage = st.value("stage", "");
  if (st.contains("error") && st["error"].is_string()) c.error = st["error"];
  c.updated = st.value("updated", "");
  if (c.state == "running" && c.stage == "finetune") {
    const double rate = number_at(log, {"images_per_s"});
    if (std::isfinite(rate) && rate > 0 && std::isfinite(batch) && c.max_iters > 0)
      c.eta_s = static_cast<double>(c.max_iters - c.iter) * batch / rate;
  }
  if (c.pretrain) {
    if (c.state == "running" && c.stage == "pretrain" && c.epochs > 0) {
      std::ifstream in(dir / "pretrain_log.jsonl");
      double seconds = 0;
      int64_t timed = 0;
      for (std::string line; std::getline(in, line);) {
        const double s = number_at(json::parse(line, nullptr, false), {"speed", "epoch_s"});
        if (std::isfinite(s)) seconds += s, ++timed;
      }
      if (timed > 0) c.eta_s = static_cast<double>(c.epochs - c.epochs_done) * seconds / static_cast<double>(timed);
    }
    if (c.state == "done") {
      const json m = parse_file(dir / "metrics.json");
      c.val_loss = number_at(m, {"final", "val_loss"});
      c.recall_at_1 = number_at(m, {"final", "retrieval", "image_to_lidar", "R@1"});
    }
    return c;
  }
  if (c.state == "done") {
    const json m = parse_file(dir / "metrics.json");
    c.miou_source = number_at(m, {"source", "mIoU"});
    c.miou_target = number_at(m, {"target", "pooled", "mIoU"});
  }
  return c;
}

}  // namespace clcp
