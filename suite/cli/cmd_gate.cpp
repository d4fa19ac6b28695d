// `clcp-bench gate`: the regression gate's flags (suite/cells/gate_run.hpp runs it). Exit codes: 0 pass,
// 1 regression, 2 usage or input error.
#include "suite/cells/gate_run.hpp"
#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"

namespace clcp::cli {

void add_gate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gate",
      "Regression gate. --tier exact: run the ci scale of dg_acdc and the ci pretraining of clcp_a2d2 on the embedded "
      "data and compare metrics.json, the per-image evidence, the pretraining epochs, the train logs and the exported "
      "encoder with baselines/regression/dg_acdc-ci and clcp_a2d2-ci (bit-identical where the kernel path is the "
      "baseline's, the stated tolerance otherwise). --tier stat BUNDLES…: compare finished runs of a reference "
      "init with a stored distribution (one-sided tests for a regression and for a suspicious improvement). Exit "
      "code 0 pass, 1 regression, 2 usage or input error.");
  auto g = std::make_shared<cells::GateOptions>();
  cmd->add_option("--tier", g->tier, "exact or stat")->required()->check(CLI::IsMember({"exact", "stat"}));
  cmd->add_option("bundles", g->bundles, "stat tier: finished result bundles, or folders holding them");
  cmd->add_option("--baseline", g->baseline,
                  "baseline name in the baselines folder (default: every exact baseline there for exact, "
                  "dg_acdc-smoke-random for stat)");
  cmd->add_option("--baselines-dir", g->baselines_dir, "folder of the regression baselines")->capture_default_str();
  cmd->add_option("--work", g->work, "exact tier: work folder for the fixture data and the fresh run (default: a "
                                     "folder in the system's temp dir)");
  cmd->add_option("--threads", g->threads, "exact tier: threads (default: the baseline's; another count is another "
                                           "kernel path)");
  cmd->add_flag("--update", g->update, "rewrite the baseline from this run / these bundles and print what changed");
  cmd->add_flag("--reuse", g->reuse, "exact tier: keep the fixture and finished cells already in --work (to "
                                     "re-check a run; a gate in CI always runs fresh)");
  cmd->callback([g] {
    if (g->tier == "exact" && !g->bundles.empty())
      fail("gate --tier exact runs its own grid; bundles are for --tier stat");
    g->command = command_line();
    const int code = g->tier == "exact" ? cells::gate_exact(*g) : cells::gate_stat(*g);
    if (code != 0) throw Exit(code);
  });
}

}  // namespace clcp::cli
