// `clcp-bench run` with the local executor: resolve the protocol, freeze the plan, run its cells here, report.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "models/import/registry.hpp"
#include "suite/cli/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/exec/local.hpp"
#include "suite/report/render.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

Protocol resolve_protocol(const RunOptions& o) {
  const bool embedded = o.data_root.empty();
  const std::string scale = !o.scale.empty() ? o.scale : (embedded ? "smoke" : "full");
  Protocol p = load_protocol(o.protocol, scale);
  if (!o.inits.empty()) p.inits = o.inits;
  if (!o.finetune_modes.empty()) p.finetune_modes = o.finetune_modes;
  if (!o.seeds.empty()) p.seeds = o.seeds;
  for (const auto& m : p.finetune_modes)
    if (m != "full" && m != "frozen") fail("--finetune {}: expected 'full' or 'frozen'", m);
  if (o.device == "cuda" && !torch::cuda::is_available())
    fail("--device cuda: no CUDA device is visible to LibTorch; use --device cpu or check the driver");
  if (o.device != "cpu" && o.device != "cuda") fail("--device {}: expected 'cpu' or 'cuda'", o.device);
  torch::set_num_threads(effective_threads(o.threads));
  return p;
}

Plan make_plan(const Protocol& p, const RunOptions& o, RunData& data) {
  // Inits are checked before any data is read or any cell starts.
  FinetuneGridInputs in;
  for (const auto& init : p.inits) in.init_sha256[init] = init_sha256(init);
  data = read_run_data(p, o.data_root);
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
  return plan_finetune_grid(p, in, run);
}

fs::path write_plan_report(const Plan& plan) {
  std::vector<fs::path> bundles;
  for (const auto& c : plan.cells)
    if (const fs::path dir = plan.protocol_dir() / c.id; fs::exists(dir / "spec.json")) bundles.push_back(dir);
  const ReportModel model =
      build_report_model(bundles, fmt::format("clcp-bench: {} ({} scale)", plan.protocol_name, plan.scale));
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
  RunData data;
  const Plan plan = make_plan(p, o, data);
  write_plan(plan.ledger_path(), plan);

  install_stop_handler();
  std::exception_ptr first_error;  // kept as thrown: an Interrupted ends the process with 128 + its signal
  const LocalOutcome outcome = run_local(plan, [&](size_t i) {
    try {
      run_cell(p, data, CellSpec::from_json(plan.cells[i].spec), o);  // finished cells stay; the report lists it
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

}  // namespace clcp::cli
