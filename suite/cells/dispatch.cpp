// The one plan dispatcher (run.hpp): every executor and verb runs a plan's cell through here, so a new cell kind is
// one case below plus its lifecycle body, and `run`, `run --plan --cell`, `gate` and `pretrain` can all run it.
#include <spdlog/spdlog.h>

#include "suite/cells/pretrain_cell.hpp"
#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/dist/launch.hpp"
#include "suite/pretrain/distributed.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

void dispatch_cell(const Plan& plan, size_t i, PlanContext& ctx) {
  const PlanCell& cell = plan.cells.at(i);
  switch (cell.kind) {
    case CellKind::pretrain: {
      const auto it = ctx.data.pretrain.find(cell.id);
      if (it == ctx.data.pretrain.end() || !ctx.data.pretrain_data)
        fail("cell {} ({}): a pretraining cell the plan's context does not hold; plan the run again", i, cell.id);
      const PretrainCellRun& pc = it->second;
      run_pretrain_cell(pc.protocol, pc.options, *ctx.data.pretrain_data, pc.spec, ctx.comm);
      return;
    }
    case CellKind::finetune:
      if (!ctx.finetune) fail("cell {} ({}): a finetune cell in a plan without a finetune protocol", i, cell.id);
      run_cell(*ctx.finetune, ctx.data, CellSpec::from_json(cell.spec), ctx.o);
      return;
  }
}

Plan make_pretrain_plan(const PretrainOptions& o, PlanContext& ctx) {
  const PretrainProtocol p = resolve_pretrain_protocol(o);
  // Rank 0 reads (and on first use renders) the data before the others, so they never race on data/synth.
  auto read = [&] { ctx.data.pretrain_data = read_pretrain_data(p, o.data_root); };
  if (ctx.comm) dist::root_first(*ctx.comm, "reading the pretraining data", read);
  else read();
  const PretrainCellSpec spec = pretrain_cell_spec(p, o, *ctx.data.pretrain_data);
  if (ctx.comm) dist::require_same_plan(*ctx.comm, "fingerprint " + spec.fingerprint + " cell " + spec.id());
  Plan plan;
  plan.protocol = {{"name", p.name}, {"scale", p.scale}, {"fingerprint", p.fingerprint()}};
  plan.protocol_name = p.name;
  plan.scale = p.scale;
  plan.protocol_fingerprint = p.fingerprint();
  plan.run.protocol = o.protocol;
  plan.run.cwd = fs::current_path();
  plan.run.out = o.out;
  plan.run.data_root = o.data_root;
  plan.run.device = o.device;
  plan.run.threads = o.threads;
  plan.run.command = o.command_line;
  PlanCell cell;
  cell.kind = CellKind::pretrain;
  cell.id = spec.id();
  cell.label = "pretrain " + spec.variant + " seed " + std::to_string(spec.seed);
  cell.spec = spec.to_json();
  plan.cells.push_back(std::move(cell));
  ctx.o.out = o.out;
  ctx.o.threads = o.threads;
  ctx.o.device = o.device;
  ctx.o.command_line = o.command_line;
  ctx.data.pretrain[spec.id()] = PretrainCellRun{p, o, spec};
  return plan;
}

}  // namespace clcp::cells
