// `clcp-bench run` with the local executor: resolve the protocol, freeze the plan, run its cells here, report.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>

#include "models/import/registry.hpp"
#include "models/precision.hpp"
#include "suite/cells/chain.hpp"
#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/exec/local.hpp"
#include "suite/report/render.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

PretrainOptions pretrain_options(const RunOptions& o, const PretrainProtocol& p) {
  PretrainOptions po;
  po.protocol = p.name;
  po.scale = p.scale;
  po.data_root = o.data_root;
  po.device = o.device;
  po.threads = o.threads;
  po.out = o.out;
  po.wait = o.wait;
  po.command_line = o.command_line;
  return po;
}

Protocol resolve_protocol(const RunOptions& o) {
  const bool embedded = o.data_root.empty();
  const std::string scale = !o.scale.empty() ? o.scale : (embedded ? "smoke" : "full");
  Protocol p = load_protocol(o.protocol, scale, o.set);
  if (!o.inits.empty()) p.inits = o.inits;
  if (!o.finetune_modes.empty()) p.finetune_modes = o.finetune_modes;
  if (!o.seeds.empty()) p.seeds = o.seeds;
  for (const auto& m : p.finetune_modes)
    if (m != "full" && m != "frozen") fail("--finetune {}: expected 'full' or 'frozen'", m);
  if (o.device == "cuda" && !torch::cuda::is_available())
    fail("--device cuda: no CUDA device is visible to LibTorch; use --device cpu or check the driver");
  if (o.device != "cpu" && o.device != "cuda") fail("--device {}: expected 'cpu' or 'cuda'", o.device);
  check_precision_supported(parse_precision(p.precision, p.file.string() + ": train.precision"),
                            o.device == "cuda" ? c10::DeviceType::CUDA : c10::DeviceType::CPU,
                            p.file.string() + ": train.precision");
  torch::set_num_threads(effective_threads(o.threads));
  bind_default_pretrain(p);
  return p;
}

Plan make_plan(const Protocol& p, const RunOptions& o, RunData& data) {
  // Inits are checked before any data is read or any cell starts.
  FinetuneGridInputs in;
  std::vector<ChainedInit> chained;
  for (const auto& init : p.inits) {
    if (auto c = parse_chained_init(init, p)) chained.push_back(std::move(*c));
    else in.init_sha256[init] = init_sha256(init);
  }
  data = read_run_data(p, o.data_root);
  std::vector<PlanCell> pretrain_cells;
  std::map<std::string, size_t> pretrain_of_init;
  if (!chained.empty()) {
    // The pretraining cells the chained inits come from (chain.hpp): one per variant, planned before the finetunes.
    data.pretrain_data = read_pretrain_data(chained.front().protocol, o.data_root);
    PretrainOptions po;
    po.protocol = chained.front().protocol.name;
    po.data_root = o.data_root;
    // A pretraining chained from another's export (the chaining method) plans that source cell before itself.
    std::function<PretrainCellSpec(const PretrainProtocol&)> add = [&](const PretrainProtocol& pp) {
      std::optional<std::string> after;
      if (auto source = parse_pretrain_chain(pp.image_init, pp.scale)) after = add(source->protocol).id();
      const PretrainCellSpec spec = pretrain_cell_spec(pp, po, *data.pretrain_data);
      if (!data.pretrain.count(spec.id())) {
        data.pretrain.emplace(spec.id(), PretrainCellRun{pp, pretrain_options(o, pp), spec});
        PlanCell cell;
        cell.kind = CellKind::pretrain;
        cell.id = spec.id();
        cell.label = "pretrain " + spec.variant + " seed " + std::to_string(spec.seed);
        cell.spec = spec.to_json();
        for (size_t i = 0; after && i < pretrain_cells.size(); ++i)
          if (pretrain_cells[i].id == *after) cell.after.push_back(i);
        pretrain_cells.push_back(std::move(cell));
      }
      return spec;
    };
    for (const auto& c : chained) {
      const PretrainCellSpec spec = add(c.protocol);
      in.init_sha256[c.init] = chained_init_identity(spec, c.epoch);
      const auto at = std::find_if(pretrain_cells.begin(), pretrain_cells.end(),
                                   [&](const PlanCell& pc) { return pc.id == spec.id(); });
      pretrain_of_init[c.init] = static_cast<size_t>(at - pretrain_cells.begin());
    }
  }
  in.datasets = data.manifest_hashes;
  in.datasets.erase("root");
  RunSettings run;
  run.protocol = o.protocol;
  run.cwd = fs::current_path();
  run.out = o.out;
  run.data_root = o.data_root;
  run.weights_dir = default_weights_lookup().weights_dir;
  run.device = o.device;
  run.threads = o.threads;
  run.command = o.command_line;
  Plan plan = plan_finetune_grid(p, in, run);
  if (!pretrain_cells.empty()) chain_pretrain_cells(plan, std::move(pretrain_cells), pretrain_of_init);
  return plan;
}

fs::path write_plan_report(const Plan& plan) {
  std::vector<fs::path> bundles;
  for (size_t i = 0; i < plan.cells.size(); ++i)
    if (const fs::path dir = plan.bundle_dir(i); fs::exists(dir / "spec.json")) bundles.push_back(dir);
  ReportOptions ro;
  ro.title = fmt::format("clcp-bench: {} ({} scale)", plan.protocol_name, plan.scale);
  use_protocol_report_settings(ro, plan.protocol);
  const ReportModel model = build_report_model(bundles, ro);
  // The controls' verdict is a finding, not an error: a scale that cannot answer the question still exits 0.
  for (const auto& c : model.comparisons)
    if (c.sensitivity) {
      spdlog::log(c.sensitivity->answers ? spdlog::level::info : spdlog::level::warn, "sensitivity: {}",
                  c.sensitivity->headline);
      for (const auto& k : c.sensitivity->checks) spdlog::info("  {}", k.line);
      spdlog::info("  {}", c.sensitivity->mde_line);
      spdlog::info("  {}", c.sensitivity->seeds_line);
    }
  const fs::path report_dir = plan.protocol_dir() / fmt::format("report-{}", plan.scale);
  write_report(model, report_dir);
  return report_dir;
}

fs::path run_protocol(const RunOptions& o) {
  const Protocol p = resolve_protocol(o);
  ensure_writable_dir(o.out);
  spdlog::info("plan: protocol {} scale {} fingerprint {} — {} init(s) x {} mode(s) x {} seed(s), {} iterations at "
               "batch {}",
               p.name, p.scale, p.fingerprint(), p.inits.size(), p.finetune_modes.size(), p.seeds.size(), p.max_iters,
               p.batch_size);
  PlanContext ctx;
  ctx.o = o;
  ctx.finetune = &p;
  const Plan plan = make_plan(p, o, ctx.data);
  write_plan(plan.ledger_path(), plan);

  install_stop_handler();
  std::exception_ptr first_error;  // kept as thrown: an Interrupted ends the process with 128 + its signal
  const LocalOutcome outcome = run_local(plan, [&](size_t i) {
    try {
      dispatch_cell(plan, i, ctx);  // finished cells stay; the report lists them
    } catch (const UserError&) {
      first_error = std::current_exception();
      throw;
    }
  });
  fs::path report_dir;
  try {
    report_dir = write_plan_report(plan);
  } catch (const UserError& e) {
    if (outcome.first_error.empty()) throw;
    spdlog::warn("note: the report was not written ({})", e.what());  // the cell's error below is what matters
  }
  if (first_error) std::rethrow_exception(first_error);
  if (!outcome.first_error.empty()) throw UserError(outcome.first_error);
  return report_dir;
}

}  // namespace clcp::cells
