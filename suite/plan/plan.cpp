#include "suite/plan/plan.hpp"

#include <fmt/format.h>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/results/cell.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

std::string to_string(CellKind kind) { return kind == CellKind::pretrain ? "pretrain" : "finetune"; }

CellKind cell_kind_from(const std::string& name, const std::string& where) {
  if (name == "finetune") return CellKind::finetune;
  if (name == "pretrain") return CellKind::pretrain;
  fail("{}: cell kind '{}' is unknown; expected \"finetune\" or \"pretrain\" (a plan from a newer clcp-bench?)", where,
       name);
}

json RunSettings::to_json() const {
  return {{"protocol", protocol}, {"cwd", cwd.string()},   {"out", out.string()},        {"data_root", data_root.string()},
          {"weights_dir", weights_dir}, {"device", device}, {"threads", threads}, {"command", command}};
}

RunSettings RunSettings::from_json(const json& j, const std::string& where) {
  try {
    RunSettings r;
    r.protocol = j.at("protocol");
    r.cwd = j.at("cwd").get<std::string>();
    r.out = j.at("out").get<std::string>();
    r.data_root = j.at("data_root").get<std::string>();
    r.weights_dir = j.at("weights_dir");
    r.device = j.at("device");
    r.threads = j.at("threads");
    r.command = j.value("command", "");
    return r;
  } catch (const json::exception& e) {
    fail("{}: plan.run is incomplete ({}); write the plan again with this clcp-bench", where, e.what());
  }
}

namespace {

json cells_json(const std::vector<PlanCell>& cells) {
  json out = json::array();
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& c = cells[i];
    out.push_back({{"index", i}, {"kind", to_string(c.kind)}, {"id", c.id}, {"label", c.label}, {"after", c.after},
                   {"spec", c.spec}});
  }
  return out;
}

// The content the plan fingerprint covers.
json fingerprinted(const Plan& p) {
  json run = p.run.to_json();
  run.erase("command");
  return {{"schema", kPlanSchema}, {"protocol", p.protocol}, {"run", run}, {"cells", cells_json(p.cells)}};
}

}  // namespace

std::string Plan::fingerprint() const { return sha256_hex(canonical_json(fingerprinted(*this))).substr(0, 16); }

json Plan::to_json() const {
  json j = protocol;
  j["cells"] = json::array();
  for (const auto& c : cells) j["cells"].push_back(c.id);
  j["plan"] = {{"schema", kPlanSchema},
               {"fingerprint", fingerprint()},
               {"run", run.to_json()},
               {"cells", cells_json(cells)}};
  return j;
}

Plan Plan::from_json(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("plan") || !j["plan"].is_object())
    fail("{}: not a clcp-bench plan (no \"plan\" object); pass the plan.json that `clcp-bench run` wrote", where);
  const json& pj = j["plan"];
  if (pj.value("schema", "") != kPlanSchema)
    fail("{}: plan schema '{}', expected '{}'; write the plan again with this clcp-bench", where,
         pj.value("schema", ""), kPlanSchema);
  Plan p;
  try {
    p.protocol = j;
    p.protocol.erase("cells");
    p.protocol.erase("plan");
    p.protocol_name = j.at("protocol");
    p.scale = j.at("scale");
    p.protocol_fingerprint = j.at("fingerprint");
    p.run = RunSettings::from_json(pj.at("run"), where);
    for (const auto& c : pj.at("cells")) {
      PlanCell cell;
      const size_t index = c.at("index");
      if (index != p.cells.size())
        fail("{}: plan.cells[{}] has index {}; the cells must be listed in index order", where, p.cells.size(), index);
      cell.kind = cell_kind_from(c.at("kind"), where);
      cell.id = c.at("id");
      cell.label = c.at("label");
      cell.after = c.at("after").get<std::vector<size_t>>();
      for (size_t d : cell.after)
        if (d >= index)
          fail("{}: cell {} ({}) waits for cell {}, which is not an earlier cell; a plan lists dependencies first",
               where, index, cell.id, d);
      cell.spec = c.at("spec");
      p.cells.push_back(std::move(cell));
    }
  } catch (const json::exception& e) {
    fail("{}: plan is incomplete ({}); write the plan again with this clcp-bench", where, e.what());
  }
  const std::string recorded = pj.value("fingerprint", "");
  if (recorded != p.fingerprint())
    fail("{}: plan fingerprint {} does not match its content ({}); the file was edited — plan the run again", where,
         recorded, p.fingerprint());
  return p;
}

std::vector<std::vector<size_t>> Plan::waves() const {
  std::vector<size_t> depth(cells.size(), 0);
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < cells.size(); ++i) {
    for (size_t d : cells[i].after) depth[i] = std::max(depth[i], depth[d] + 1);  // from_json: d < i
    if (out.size() <= depth[i]) out.resize(depth[i] + 1);
    out[depth[i]].push_back(i);
  }
  return out;
}

size_t Plan::index_of(const std::string& id) const {
  for (size_t i = 0; i < cells.size(); ++i)
    if (cells[i].id == id) return i;
  fail("plan of {} ({} scale) has no cell '{}'", protocol_name, scale, id);
}

fs::path Plan::protocol_dir() const { return run.out / protocol_name; }

fs::path Plan::ledger_path() const {
  return protocol_dir() / fmt::format("plan-{}-{}.json", scale, protocol_fingerprint);
}

Plan plan_finetune_grid(const Protocol& p, const FinetuneGridInputs& in, const RunSettings& run) {
  Plan plan;
  plan.protocol = p.to_json();
  plan.protocol_name = p.name;
  plan.scale = p.scale;
  plan.protocol_fingerprint = p.fingerprint();
  plan.run = run;
  for (const auto& init : p.inits)
    for (const auto& mode : p.finetune_modes)
      for (const auto seed : p.seeds) {
        CellSpec c;
        c.protocol = p.name;
        c.scale = p.scale;
        c.fingerprint = p.fingerprint();
        c.init = init;
        c.init_sha256 = in.init_sha256.count(init) ? in.init_sha256.at(init) : "";
        c.finetune_mode = mode;
        c.seed = seed;
        c.datasets = in.datasets;
        c.recipe = p.recipe_json();
        PlanCell cell;
        cell.kind = CellKind::finetune;
        cell.id = c.id();
        cell.label = c.label();
        cell.spec = c.to_json();
        plan.cells.push_back(std::move(cell));
      }
  return plan;
}

void write_plan(const fs::path& path, const Plan& plan) { write_json_atomic(path, plan.to_json()); }

Plan read_plan(const fs::path& path) { return Plan::from_json(read_json(path), path.string()); }

}  // namespace clcp
