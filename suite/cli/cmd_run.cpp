// `clcp-bench run`: the main job — plan, finetune, evaluate, bundle, report — for every cell of a protocol's grid.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "models/import/registry.hpp"
#include "suite/cli/commands.hpp"
#include "suite/cli/run.hpp"
#include "suite/cli/threads.hpp"

namespace clcp::cli {

namespace {
std::string g_command_line = "clcp-bench";
}  // namespace

void set_command_line(const std::string& line) { g_command_line = line; }
const std::string& command_line() { return g_command_line; }

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run a protocol end to end: finetune Segmenter ViT-S/16 on Cityscapes train for every (init x finetune mode x "
      "seed) cell, evaluate on Cityscapes val and ACDC val, write result bundles to OUT/<protocol>/<cell-id>/ and a "
      "report to OUT/<protocol>/report-<scale>/. Finished cells are not run again; an interrupted cell (Ctrl-C, "
      "crash) resumes from its last checkpoint when the same command is run again.");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("--protocol", o->protocol, "protocol name (protocols/NAME.json) or a .json path; see `clcp-bench protocols`")
      ->capture_default_str();
  cmd->add_option("--scale", o->scale,
                  "protocol scale: full = the thesis recipe (default with --data-root), smoke = minutes on a CPU "
                  "(default on the embedded data), ci = the regression fixture");
  cmd->add_option("--init", o->inits,
                  "encoder init(s), overriding the protocol's: 'random' (explicit random weights), a registry name "
                  "(imagenet, liploc-kitti, liploc-kitti360, clcp@ep19, …; see `clcp-bench weights list`), file:PATH "
                  "or a path (.safetensors or torch.save .pth/.ckpt in timm, LIP-Loc, CLCP-Lightning or mmseg layout)")
      ->delimiter(',');
  cmd->add_option("--weights-dir", default_weights_lookup().weights_dir,
                  "folder holding the registry's weight files under their registry names (default: "
                  "$CLCP_WEIGHTS_DIR; ~/.config/clcp-bench/weights.json maps names to paths too)");
  cmd->add_option("--finetune", o->finetune_modes, "finetune mode(s): full, frozen (backbone frozen, 'fb' in the thesis)")
      ->delimiter(',');
  cmd->add_option("--seed", o->seeds, "seed(s), overriding the protocol's")->delimiter(',');
  cmd->add_option("--data-root", o->data_root,
                  "folder holding cityscapes/ (leftImg8bit, gtFine) and acdc/ (rgb_anon, gt) in their official "
                  "layouts; omitted: the embedded synthetic data in data/synth (rendered on first use)");
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto threads = std::make_shared<std::string>("auto");
  cmd->add_option("--threads", *threads,
                  "CPU threads for LibTorch: a count >= 1, or auto (default: the CPUs this process may use). Results "
                  "are bit-identical only for the same count, so a finished or interrupted cell is reused or resumed "
                  "only with the count it was run with");
  cmd->add_flag("--wait", o->wait,
                "when another process is running a cell of this grid, wait for it to finish instead of stopping "
                "(a finished cell is then reused)");
  cmd->add_option("--out", o->out, "results root")->capture_default_str();
  cmd->add_flag("--force", o->force, "re-run cells that are already done (their bundles are replaced)");
  cmd->callback([o, threads] {
    o->threads = parse_threads(*threads);
    o->command_line = command_line();
    const auto report = run_protocol(*o);
    spdlog::info("report: {}", (report / "report.html").string());
    std::cout << (report / "report.md").string() << "\n";
  });
}

}  // namespace clcp::cli
