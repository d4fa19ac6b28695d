// The Slurm executor: a plan's cells as a Slurm job array, through Slurm's own command-line tools (sbatch, squeue,
// scontrol), never libslurm, whose ABI changes every release (scaleout_reference.md §0, §1.9).
//
// Files, all under OUT/<protocol>/slurm/<plan fingerprint>/ ("the submission folder"):
//   plan.json          the frozen plan (written by the caller; task i runs cell i of it)
//   cell.sbatch        the array task script: runs `CELL_COMMAND i` for i = $SLURM_ARRAY_TASK_ID
//   report.sbatch      the report job: runs REPORT_COMMAND once every cell job has ended (afterany)
//   submissions.json   one entry per submission: job ids, the cells of each job, the sbatch command lines
//   logs/<cell id>.log each task appends to its cell's log (one header line per attempt: job and array task ids,
//                      restart count, host, CUDA_VISIBLE_DEVICES); logs/report.log; logs/slurm-%A_%a.out (Slurm's own)
//
// Jobs: the cells that wait for nothing form one array (`--array=<indices>%<array limit>`), so array task id = plan
// index. A cell that waits for others (a finetune cell after the pretrain cell whose encoder it starts from) is a
// one-task array of the same script with `--dependency=afterok:<job>_<task>[:…]` on exactly those cells'
// tasks, and `--kill-on-invalid-dep=yes` so it is cancelled, not left pending, when one of them fails.
//
// Time limits and preemption (scaleout_reference.md §1.7): the task asks for a signal before its limit
// (`--signal=B:USR2@120` by default: to the batch shell, 120 s before the limit). The script runs the cell in the
// background, and on USR2 sends it SIGINT — the cell checkpoints at the next iteration and ends "interrupted" — then
// requeues its own task with `scontrol requeue <array job>_<task>` (at most max_requeues times, counted by
// SLURM_RESTART_COUNT). A requeued or resubmitted task resumes its cell from the last checkpoint; a task whose cell is
// already done ends at once. SIGTERM (scancel, a requeue from outside, preemption without a user signal) is passed on
// as SIGINT too, without a self-requeue: Slurm is ending or requeueing the job itself.
#pragma once
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/plan/plan.hpp"

namespace clcp {

struct SlurmOptions {
  std::string partition;             ///< --partition ("" = the cluster's default)
  std::string time;                  ///< --time, HH:MM:SS or D-HH:MM:SS ("" = the partition's default)
  std::string account;               ///< --account ("" = the user's default)
  int gpus_per_task = 0;             ///< --gpus-per-task (0 = none requested)
  int cpus_per_task = 0;             ///< --cpus-per-task (0 = the cluster's default, usually 1)
  int array_limit = 0;               ///< at most this many tasks at once: --array=…%M (0 = no limit)
  std::string signal = "B:USR2@120"; ///< --signal: the checkpoint-and-requeue warning before the time limit
  int max_requeues = 3;              ///< self-requeues per task after the warning signal (SLURM_RESTART_COUNT)
  bool dry_run = false;              ///< write and print the scripts and the sbatch commands, submit nothing
};

/// Checks the options; throws UserError with one line naming the option (e.g. "--time 90: expected HH:MM:SS …").
void check_slurm_options(const SlurmOptions& o);

/// The submission folder of a plan: OUT/<protocol>/slurm/<plan fingerprint>/.
std::filesystem::path slurm_dir(const Plan& plan);

/// Array indices as Slurm writes them: {0,1,2,5,7,8} → "0-2,5,7-8".
std::string slurm_index_list(const std::vector<size_t>& indices);

/// The text of cell.sbatch. `cell_command` is the argv that runs one cell when its plan index is appended.
std::string cell_script(const Plan& plan, const std::vector<std::string>& cell_command, const SlurmOptions& o);
/// The text of report.sbatch; `report_command` is the argv that writes the plan's report.
std::string report_script(const Plan& plan, const std::vector<std::string>& report_command, const SlurmOptions& o);

struct SlurmJob {
  std::string job_id;            ///< as sbatch --parsable prints it ("" in a dry run)
  std::vector<size_t> cells;     ///< plan indices = array task ids of this job
};

struct SlurmSubmission {
  std::filesystem::path dir;                  ///< the submission folder
  std::vector<SlurmJob> jobs;                 ///< cell jobs in submission order (the array first)
  std::string report_job;                     ///< "" in a dry run
  std::vector<std::vector<std::string>> sbatch_commands;  ///< every sbatch argv, in order (job ids as placeholders
                                                          ///< "JOBn" for the n-th sbatch in a dry run)
  std::string cell_script, report_script;     ///< the scripts' text
};

/// Writes cell.sbatch and report.sbatch into slurm_dir(plan) and submits: the array of the cells that wait for
/// nothing, then one job per waiting cell with afterok on its dependencies' tasks, then the report job with afterany
/// on every cell job. Cells listed in `skip` (already done) are not submitted; a dependency on a skipped cell is
/// already met. Appends the submission to submissions.json. With o.dry_run nothing is submitted (and sbatch is not
/// needed). Throws UserError: sbatch not on PATH ("… use --dry-run to see the scripts"); a submission Slurm refuses
/// (Slurm's own message, and the jobs already submitted with the scancel command that removes them).
SlurmSubmission submit_slurm(const Plan& plan, const std::vector<std::string>& cell_command,
                             const std::vector<std::string>& report_command, const SlurmOptions& o,
                             const std::vector<size_t>& skip = {});

/// What Slurm says about one planned cell now.
struct SlurmTaskState {
  std::string job_id;  ///< "<array job>_<task>" as squeue prints it
  std::string state;   ///< PENDING, RUNNING, COMPLETING, …
  std::string reason;  ///< squeue's reason (Dependency, Resources, None, …)
};

/// The cells of a plan that squeue lists now, by plan index (its tasks are found by the plan's job name). `dir` is
/// the plan's submission folder (slurm_dir(plan) where the results were written; pass where they are now). Empty
/// when there is no squeue on PATH, no submissions.json, or squeue fails (bundles remain the truth; this adds ids).
std::map<size_t, SlurmTaskState> query_slurm(const Plan& plan, const std::filesystem::path& dir);

}  // namespace clcp
