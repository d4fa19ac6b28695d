#include "suite/report/pretrain_model.hpp"

#include <fstream>
#include <limits>
#include <regex>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/pretrain_cell.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

PretrainRun read_pretrain_run(const fs::path& dir) {
  Bundle b(dir);
  const PretrainCellSpec spec = PretrainCellSpec::from_json(read_json(b.spec_path()));
  PretrainRun r;
  r.cell_id = spec.id();
  r.method = spec.method;
  r.variant = spec.variant;
  r.protocol = spec.protocol;
  r.scale = spec.scale;
  r.fingerprint = spec.fingerprint;
  r.state = b.state().value_or("none");
  r.bundle_dir = dir.string();
  if (fs::exists(b.provenance_path())) {
    r.provenance = b.provenance_path().string();
    r.command = b.read_provenance().value("rerun", "");
  }
  std::ifstream in(dir / "pretrain_log.jsonl");
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    try {
      const json j = json::parse(line);
      PretrainEpoch e;
      e.epoch = j.at("epoch");
      e.lr = j.at("lr");
      e.train_loss = j.at("train_loss");
      e.val_loss = j.at("val_loss");
      // optional: a method without a chance level of its loss shows "n/a" and no chance line
      e.chance_loss = j.value("chance_loss", std::numeric_limits<double>::quiet_NaN());
      if (spec.method == "clcp") {  // CLCP's own diagnostics; other methods' stay in their bundle's log
        e.tau = j.at("tau");
        e.loss_floor = j.at("loss_floor");
        const json& ret = j.at("retrieval");
        e.r1_image_to_lidar = ret.at("image_to_lidar").at("R@1");
        e.r1_lidar_to_image = ret.at("lidar_to_image").at("R@1");
        e.r1_chance = ret.at("chance").at("R@1");
        e.gallery = ret.at("gallery");
      } else if (j.contains("diagnostic")) {
        const json& d = j.at("diagnostic");
        e.diagnostic = d.at("name");
        e.diagnostic_value = d.at("value");
        e.diagnostic_chance = d.at("chance");
      }
      if (j.contains("z_std")) {
        e.z_std = j.at("z_std");
        e.z_std_uniform = j.at("z_std_uniform");
      }
      r.epochs.push_back(e);
    } catch (const json::exception& ex) {
      fail("{}:{}: not a pretraining epoch record ({}); re-run the pretraining cell", (dir / "pretrain_log.jsonl").string(),
           line_no, ex.what());
    }
  }
  if (fs::exists(b.metrics_path())) {
    // Held in a local: items() of the temporary value() would dangle inside the range-for (before C++23).
    const json exports = b.read_metrics().value("exports", json::object());
    for (const auto& [name, file] : exports.items()) r.exports.push_back(name);
  }
  return r;
}

fs::path chained_pretrain_bundle(const fs::path& finetune_bundle, const json& spec) {
  static const std::regex re(R"(^chained:([^/]+)/([^@]+)@ep\d+$)");
  std::smatch m;
  const std::string id = spec.value("init_sha256", "");
  if (!std::regex_match(id, m, re)) return {};
  return fs::absolute(finetune_bundle).lexically_normal().parent_path().parent_path() / m[1].str() / m[2].str();
}

}  // namespace clcp
