// `clcp-bench run`: the main job — plan, finetune, evaluate, bundle, report — for every cell of a protocol's grid,
// here (the local executor) or as a Slurm job array; and, for a scheduler's task, one cell of a frozen plan.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "models/import/registry.hpp"
#include "suite/cli/commands.hpp"
#include "suite/cells/run.hpp"
#include "suite/protocol/overrides.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"

namespace clcp::cli {
using cells::RunOptions;

namespace {
std::string g_command_line = "clcp-bench";
std::vector<std::string> g_arguments;
}  // namespace

void set_command_line(const std::string& line) { g_command_line = line; }
const std::string& command_line() { return g_command_line; }
void set_arguments(const std::vector<std::string>& args) { g_arguments = args; }
const std::vector<std::string>& arguments() { return g_arguments; }

void add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run a protocol end to end: finetune Segmenter ViT-S/16 on Cityscapes train for every (init x finetune mode x "
      "seed) cell, evaluate on Cityscapes val and ACDC val, write result bundles to OUT/<protocol>/<cell-id>/ and a "
      "report to OUT/<protocol>/report-<scale>/. Finished cells are not run again; an interrupted cell (Ctrl-C, "
      "crash) resumes from its last checkpoint when the same command is run again. With --executor slurm the cells "
      "run as a Slurm job array instead.");
  auto o = std::make_shared<RunOptions>();
  auto so = std::make_shared<SlurmOptions>();
  struct PlanArgs {
    std::string executor = "local";
    std::string plan;
    int64_t cell = -1;
    bool report = false;
  };
  auto pa = std::make_shared<PlanArgs>();
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
  auto sets = std::make_shared<std::vector<std::string>>();
  auto precision = std::make_shared<std::string>();
  cmd->add_option("--precision", *precision,
                  "finetune precision: fp32 or bf16 (autocast, fp32 master weights; the same as --set "
                  "train.precision=…; part of the fingerprint)");
  cmd->add_option("--set", *sets, "override a protocol key: --set KEY=VALUE, KEY dotted (train.max_iters, "
                                  "train.batch_size), VALUE JSON or a bare word; repeatable; part of the fingerprint")
      ->take_all();
  cmd->add_option("--data-root", o->data_root,
                  "folder holding cityscapes/ (leftImg8bit, gtFine) and acdc/ (rgb_anon, gt) in their official "
                  "layouts; omitted: the embedded synthetic data in data/synth (rendered on first use)");
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto threads = std::make_shared<std::string>("auto");
  cmd->add_option("--threads", *threads,
                  "CPU threads for LibTorch: a count >= 1, or auto (default: the CPUs this process may use; with "
                  "--executor slurm and --cpus-per-task N: N). Results are bit-identical only for the same count, so "
                  "a finished or interrupted cell is reused or resumed only with the count it was run with");
  cmd->add_flag("--wait", o->wait,
                "when another process is running a cell of this grid, wait for it to finish instead of stopping "
                "(a finished cell is then reused)");
  cmd->add_option("--out", o->out, "results root")->capture_default_str();
  cmd->add_flag("--force", o->force, "re-run cells that are already done (their bundles are replaced)");

  const std::string slurm = "Slurm executor";
  cmd->add_option("--executor", pa->executor,
                  "local = run the cells here one after another; slurm = submit them as a Slurm job array (one task "
                  "per cell, content-addressed, so a requeued or resubmitted task resumes) plus a report job")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str()
      ->group(slurm);
  cmd->add_option("--partition", so->partition, "sbatch --partition")->group(slurm);
  cmd->add_option("--time", so->time, "sbatch --time per cell task, e.g. 04:00:00")->group(slurm);
  cmd->add_option("--gpus-per-task", so->gpus_per_task, "sbatch --gpus-per-task (use with --device cuda)")->group(slurm);
  cmd->add_option("--cpus-per-task", so->cpus_per_task, "sbatch --cpus-per-task")->group(slurm);
  cmd->add_option("--array-limit", so->array_limit, "at most this many cell tasks at once (--array=…%M)")->group(slurm);
  cmd->add_option("--account", so->account, "sbatch --account")->group(slurm);
  cmd->add_option("--signal", so->signal, "warning before the time limit: the cell checkpoints and its task "
                                          "requeues itself")
      ->capture_default_str()
      ->group(slurm);
  cmd->add_option("--max-requeues", so->max_requeues, "self-requeues per task after the warning signal")
      ->capture_default_str()
      ->group(slurm);
  cmd->add_flag("--dry-run", so->dry_run, "write and print the batch scripts and sbatch commands; submit nothing")
      ->group(slurm);
  const std::string task = "A scheduler's task";
  auto* plan_opt = cmd->add_option("--plan", pa->plan, "a plan file written by `clcp-bench run` (OUT/<protocol>/slurm/"
                                                       "<plan fingerprint>/plan.json); needs --cell or --report")
                       ->group(task);
  cmd->add_option("--cell", pa->cell, "run cell i of --plan (what Slurm array task i runs)")->needs(plan_opt)->group(task);
  cmd->add_flag("--report", pa->report, "write the report of every cell of --plan")->needs(plan_opt)->group(task);
  cmd->callback([cmd, o, so, pa, threads, sets, precision] {
    o->threads = cells::parse_threads(*threads);
    o->command_line = command_line();
    if (!precision->empty()) o->set.emplace_back("train.precision", *precision);
    for (const auto& kv : *sets) o->set.push_back(parse_override(kv));
    if (!pa->plan.empty()) {
      // Everything comes from the plan: a grid option given as well would be silently ignored, so refuse it.
      for (const char* flag : {"--protocol", "--scale", "--init", "--finetune", "--seed", "--set", "--precision", "--data-root",
                               "--device", "--threads", "--out", "--force", "--executor", "--weights-dir"})
        if (cmd->count(flag))
          fail("--plan {}: {} cannot be combined with --plan (the plan fixes it); drop it", pa->plan, flag);
      if ((pa->cell >= 0 || cmd->count("--cell")) == pa->report)
        fail("--plan {}: pass exactly one of --cell INDEX or --report", pa->plan);
      if (pa->report) {
        std::cout << (cells::report_plan(pa->plan) / "report.md").string() << "\n";
        return;
      }
      cells::run_plan_cell(pa->plan, pa->cell);
      return;
    }
    if (pa->executor == "slurm") {
      const auto dir = cells::submit_protocol(*o, *so);
      if (!so->dry_run) std::cout << dir.string() << "\n";
      return;
    }
    for (const char* flag : {"--partition", "--time", "--gpus-per-task", "--cpus-per-task", "--array-limit",
                             "--account", "--signal", "--max-requeues", "--dry-run"})
      if (cmd->count(flag)) fail("{} is an option of --executor slurm; add --executor slurm or drop it", flag);
    const auto report = cells::run_protocol(*o);
    spdlog::info("report: {}", (report / "report.html").string());
    std::cout << (report / "report.md").string() << "\n";
  });
}

}  // namespace clcp::cli
