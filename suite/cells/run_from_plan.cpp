// `clcp-bench run --plan FILE --cell i` and `--plan FILE --report`: what a scheduler's task runs. Everything comes
// from the frozen plan — protocol, grid, data root, weights folder, threads, output root, working directory — so
// the cell computes exactly what `clcp-bench run` would have, and refuses when the world moved since the plan was
// made (protocol fingerprint, weights sha256, dataset manifests).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "models/import/registry.hpp"
#include "suite/cells/chain.hpp"
#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/pretrain/methods/registry.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Reads the plan and enters the folder it was made in, so relative paths mean what they meant then.
Plan enter_plan(const fs::path& plan_file) {
  const fs::path file = fs::absolute(plan_file);
  Plan plan = read_plan(file);
  std::error_code ec;
  if (!plan.run.cwd.empty()) {
    if (!fs::is_directory(plan.run.cwd, ec))
      fail("{}: the plan was made in {}, which does not exist here; run the task where that folder is mounted",
           file.string(), plan.run.cwd.string());
    fs::current_path(plan.run.cwd);
  }
  return plan;
}

RunOptions options_of(const Plan& plan) {
  RunOptions o;
  o.protocol = plan.run.protocol;
  o.scale = plan.scale;
  o.inits = plan.protocol.at("inits").get<std::vector<std::string>>();
  o.finetune_modes = plan.protocol.at("finetune_modes").get<std::vector<std::string>>();
  o.seeds = plan.protocol.at("seeds").get<std::vector<int64_t>>();
  for (const auto& kv : plan.protocol.value("set", json::array())) o.set.push_back(parse_override(kv.get<std::string>()));
  o.data_root = plan.run.data_root;
  o.device = plan.run.device;
  o.threads = plan.run.threads;
  o.out = plan.run.out;
  o.command_line = plan.run.command;
  return o;
}

// Which scheduler task runs the cell, for provenance (Slurm's variables; none for a plain shell).
json executor_info(const fs::path& plan_file, size_t index) {
  json j = {{"plan", fs::absolute(plan_file).lexically_normal().string()}, {"cell", index}};
  for (const char* v : {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT",
                        "SLURMD_NODENAME", "CUDA_VISIBLE_DEVICES"})
    if (const char* s = std::getenv(v)) j[v] = s;
  j["kind"] = j.contains("SLURM_JOB_ID") ? "slurm" : "plan";
  return j;
}

}  // namespace

bool run_plan_cell(const fs::path& plan_file, int64_t index) {
  const fs::path file = fs::absolute(plan_file);
  const Plan plan = enter_plan(file);
  if (index < 0 || static_cast<size_t>(index) >= plan.cells.size())
    fail("--cell {}: {} has {} cells (0..{}); pass an index of that plan", index, file.string(), plan.cells.size(),
         static_cast<int64_t>(plan.cells.size()) - 1);
  RunOptions o = options_of(plan);
  default_weights_lookup().weights_dir = plan.run.weights_dir;
  const Protocol p = resolve_protocol(o);
  if (p.fingerprint() != plan.protocol_fingerprint)
    fail("{}: the plan was made for protocol fingerprint {}, but {} ({} scale) gives {} now; the protocol or "
         "clcp-bench changed since — plan the run again",
         file.string(), plan.protocol_fingerprint, o.protocol, plan.scale, p.fingerprint());
  const PlanCell& cell = plan.cells[static_cast<size_t>(index)];
  for (size_t d : cell.after)
    if (!Bundle(plan.bundle_dir(d)).done())
      fail("cell {} ({}) waits for cell {} ({}), which is not done; run that cell first", index, cell.id, d,
           plan.cells[d].id);
  PlanContext ctx;
  ctx.finetune = &p;
  if (cell.kind == CellKind::pretrain) {
    // A pretraining link of a chained protocol: its protocol and variant come from its spec.
    const PretrainCellSpec planned = PretrainCellSpec::from_json(cell.spec);
    PretrainOptions po = pretrain_options(o, load_pretrain_protocol(planned.protocol, planned.scale));
    const auto variant = find_method(planned.method).parse_variant(planned.variant);
    if (!variant)
      fail("{}: pretraining cell {} has variant '{}', which method {} does not make; plan the run again",
           file.string(), index, planned.variant, planned.method);
    po.set = variant->set;
    po.image_init = planned.image_init;
    po.lidar_init = planned.lidar_init;
    po.seed = planned.seed;
    po.executor = executor_info(file, static_cast<size_t>(index));
    const PretrainProtocol pp = resolve_pretrain_protocol(po);
    ctx.data.pretrain_data = read_pretrain_data(pp, o.data_root);
    const PretrainCellSpec spec = pretrain_cell_spec(pp, po, *ctx.data.pretrain_data);
    if (spec.id() != cell.id)
      fail("{}: pretraining cell {} is listed as {} but the protocol, inits and A2D2 data give {} now; plan the run "
           "again", file.string(), index, cell.id, spec.id());
    ctx.data.pretrain[spec.id()] = PretrainCellRun{pp, po, spec};
    install_stop_handler();
    const bool was_done = Bundle(plan.bundle_dir(static_cast<size_t>(index))).done();
    dispatch_cell(plan, static_cast<size_t>(index), ctx);
    return !was_done;
  }

  const CellSpec spec = CellSpec::from_json(cell.spec);
  if (spec.id() != cell.id)
    fail("{}: cell {} is listed as {} but its spec gives {}; plan the run again", file.string(), index, cell.id,
         spec.id());
  if (Bundle::for_cell(o.out, spec).done()) {  // before reading any data: a finished cell costs nothing
    spdlog::info("cell {}: already done ({}); not training again", spec.id(),
                 Bundle::for_cell(o.out, spec).dir().string());
    return false;
  }
  if (const std::string sha = chained_export(spec.init_sha256, o.out) ? spec.init_sha256 : init_sha256(spec.init);
      sha != spec.init_sha256)
    fail("--init {}: the weights have sha256 {} now, the plan was made with {}; plan the run again",
         spec.init, sha.empty() ? "(random)" : sha, spec.init_sha256.empty() ? "(random)" : spec.init_sha256);
  ctx.data = read_run_data(p, o.data_root);
  json datasets = ctx.data.manifest_hashes;
  datasets.erase("root");
  if (datasets != spec.datasets)
    fail("{}: the datasets under {} changed since the plan was made (manifest hashes differ); plan the run again",
         file.string(), o.data_root.empty() ? std::string("data/synth") : o.data_root.string());
  o.executor = executor_info(file, static_cast<size_t>(index));
  ctx.o = o;
  install_stop_handler();
  dispatch_cell(plan, static_cast<size_t>(index), ctx);
  return true;
}

fs::path report_plan(const fs::path& plan_file) {
  const Plan plan = enter_plan(plan_file);
  return write_plan_report(plan);
}

}  // namespace clcp::cells
