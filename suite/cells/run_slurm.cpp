// `clcp-bench run --executor slurm`: the plan is frozen here, on the submit host; the cells run as a Slurm job array
// whose task i runs `clcp-bench run --plan FILE --cell i` (suite/exec/slurm.hpp), and a report job follows them.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/shell.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

fs::path submit_protocol(const RunOptions& given, const SlurmOptions& so) {
  check_slurm_options(so);
  if (given.force)
    fail("--force with --executor slurm: a requeued task would delete its own checkpoints; remove the bundles you "
         "want re-run (OUT/<protocol>/<cell id>/) and submit again");
  RunOptions o = given;
  if (o.threads == 0 && so.cpus_per_task > 0) o.threads = so.cpus_per_task;  // one thread per allocated CPU
  const Protocol p = resolve_protocol(o);
  ensure_writable_dir(o.out);
  spdlog::info("plan: protocol {} scale {} fingerprint {} — {} init(s) x {} mode(s) x {} seed(s), {} iterations at "
               "batch {}; executor slurm",
               p.name, p.scale, p.fingerprint(), p.inits.size(), p.finetune_modes.size(), p.seeds.size(), p.max_iters,
               p.batch_size);
  RunData data;
  const Plan plan = make_plan(p, o, data);
  write_plan(plan.ledger_path(), plan);
  const fs::path dir = fs::absolute(slurm_dir(plan)).lexically_normal();
  const fs::path plan_file = fs::absolute(dir / "plan.json").lexically_normal();
  write_plan(plan_file, plan);

  std::vector<size_t> done;
  for (size_t i = 0; i < plan.cells.size(); ++i)
    if (Bundle(plan.bundle_dir(i)).done()) done.push_back(i);
  if (done.size() == plan.cells.size() && !so.dry_run) {
    spdlog::info("slurm: all {} cells of plan {} are done; nothing to submit", plan.cells.size(), plan.fingerprint());
    return write_plan_report(plan);
  }
  const std::string exe = fs::canonical("/proc/self/exe").string();
  const SlurmSubmission sub = submit_slurm(plan, {exe, "run", "--plan", plan_file.string(), "--cell"},
                                           {exe, "run", "--plan", plan_file.string(), "--report"}, so, done);
  if (so.dry_run) {
    std::cout << fmt::format("# --dry-run: nothing submitted. Plan {} ({} cells, {} already done) in {}\n",
                             plan.fingerprint(), plan.cells.size(), done.size(), dir.string());
    std::cout << "# ---- " << (dir / "cell.sbatch").string() << "\n" << sub.cell_script;
    std::cout << "# ---- " << (dir / "report.sbatch").string() << "\n" << sub.report_script;
    std::cout << "# ---- the submission (JOBn = the job id the n-th sbatch prints)\n";
    for (const auto& argv : sub.sbatch_commands) std::cout << shell_join(argv) << "\n";
    return dir;
  }
  for (const auto& j : sub.jobs)
    spdlog::info("slurm: submitted job {} — cells {}", j.job_id, slurm_index_list(j.cells));
  spdlog::info("slurm: report job {} runs once every cell job has ended; logs in {}; follow with `clcp-bench status "
               "{}`",
               sub.report_job, (dir / "logs").string(), fs::absolute(plan.protocol_dir()).lexically_normal().string());
  return dir;
}

}  // namespace clcp::cells
