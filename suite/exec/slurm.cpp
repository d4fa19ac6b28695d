#include "suite/exec/slurm.hpp"

#include <fmt/format.h>

#include <ctime>
#include <regex>
#include <set>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/shell.hpp"
#include "suite/exec/process.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string first_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.front() == '\n' || t.front() == ' ')) t.erase(t.begin());
  return t.substr(0, t.find('\n'));
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The job name of a plan's cell tasks: squeue finds them by it.
std::string job_name(const Plan& plan) { return fmt::format("clcp-{}-{}", plan.protocol_name, plan.fingerprint()); }

std::string header(const Plan& plan, const std::string& name, const std::string& output, const SlurmOptions& o,
                   bool cell) {
  const fs::path cwd = plan.run.cwd.empty() ? fs::current_path() : plan.run.cwd;
  std::string h = "#!/bin/bash\n";
  h += fmt::format("#SBATCH --job-name={}\n", name);
  h += fmt::format("#SBATCH --output={}\n", output);
  h += "#SBATCH --open-mode=append\n";
  h += fmt::format("#SBATCH --chdir={}\n", cwd.string());
  h += "#SBATCH --ntasks=1\n";
  if (!o.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.account.empty()) h += fmt::format("#SBATCH --account={}\n", o.account);
  if (cell) {
    if (!o.time.empty()) h += fmt::format("#SBATCH --time={}\n", o.time);
    if (o.cpus_per_task > 0) h += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpus_per_task);
    if (o.gpus_per_task > 0) h += fmt::format("#SBATCH --gpus-per-task={}\n", o.gpus_per_task);
    h += "#SBATCH --requeue\n";
    h += fmt::format("#SBATCH --signal={}\n", o.signal);
  }
  return h;
}

std::vector<std::string> with(std::vector<std::string> v, std::initializer_list<std::string> more) {
  v.insert(v.end(), more);
  return v;
}

// "123" or "123;cluster" (sbatch --parsable) → "123".
std::string parse_job_id(const std::string& out) {
  std::string id = first_line(out);
  id = id.substr(0, id.find(';'));
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) return "";
  return id;
}

}  // namespace

void check_slurm_options(const SlurmOptions& o) {
  static const std::regex time_re(R"(^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$)");
  if (!o.time.empty() && !std::regex_match(o.time, time_re))
    fail("--time {}: expected a Slurm time limit such as 04:00:00 (HH:MM:SS), 2-00:00:00 (D-HH:MM:SS) or 90 (minutes)",
         o.time);
  static const std::regex signal_re(R"(^((B|R):)?(SIG)?[A-Z0-9]+(@\d+)?$)");
  if (!std::regex_match(o.signal, signal_re))
    fail("--signal {}: expected [B:]SIGNAL[@SECONDS] as sbatch takes it, e.g. B:USR2@120", o.signal);
  if (o.gpus_per_task < 0) fail("--gpus-per-task {}: expected 0 or more", o.gpus_per_task);
  if (o.cpus_per_task < 0) fail("--cpus-per-task {}: expected 0 or more", o.cpus_per_task);
  if (o.array_limit < 0) fail("--array-limit {}: expected 0 (no limit) or more", o.array_limit);
  if (o.max_requeues < 0) fail("--max-requeues {}: expected 0 or more", o.max_requeues);
  for (const auto& [flag, v] : {std::pair{"--partition", o.partition}, std::pair{"--account", o.account}})
    if (v.find_first_of(" \t\n'\"\\$`") != std::string::npos)
      fail("{} '{}': expected a Slurm name without spaces or quotes", flag, v);
}

fs::path slurm_dir(const Plan& plan) { return plan.protocol_dir() / "slurm" / plan.fingerprint(); }

std::string slurm_index_list(const std::vector<size_t>& indices) {
  std::vector<size_t> v = indices;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + (j == i ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]));
    i = j + 1;
  }
  return out;
}

std::string cell_script(const Plan& plan, const std::vector<std::string>& cell_command, const SlurmOptions& o) {
  const fs::path dir = fs::absolute(slurm_dir(plan)).lexically_normal();
  std::string s = header(plan, job_name(plan), (dir / "logs" / "slurm-%A_%a.out").string(), o, true);
  s += fmt::format(
      "# clcp-bench: one array task per cell of plan {} (protocol {}, scale {}, {} cells).\n"
      "# Task i runs cell i of plan.json and appends to logs/<cell id>.log. On {} (before the time limit) the cell\n"
      "# checkpoints and the task requeues itself (at most {} times); a requeued task resumes from the checkpoint.\n",
      plan.fingerprint(), plan.protocol_name, plan.scale, plan.cells.size(), o.signal, o.max_requeues);
  s += "set -u\n";
  s += "CELL_IDS=(";
  for (size_t i = 0; i < plan.cells.size(); ++i) s += (i ? " " : "") + shell_word(plan.cells[i].id);
  s += ")\n";
  s += fmt::format("LOGS={}\n", shell_word((dir / "logs").string()));
  s += fmt::format("MAX_REQUEUES={}\n", o.max_requeues);
  s += fmt::format("CELL_COMMAND=({})\n", shell_join(cell_command));
  s += R"SH(i=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch --array}
cell=${CELL_IDS[$i]:?no cell $i in this plan}
task="${SLURM_ARRAY_JOB_ID}_${i}"
mkdir -p "$LOGS"
exec >>"$LOGS/$cell.log" 2>&1
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
echo "=== $(stamp) cell $cell (plan index $i): Slurm task $task (job $SLURM_JOB_ID), restart ${SLURM_RESTART_COUNT:-0}, host $(hostname), CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"
stop=""
child=""
on_signal() {
  stop=$1
  echo "=== $(stamp) SIG$1: asking cell $cell to checkpoint and stop"
  [ -n "$child" ] && kill -INT "$child" 2>/dev/null
}
trap 'on_signal USR2' USR2
trap 'on_signal TERM' TERM
set -m  # job control: without it bash starts background commands with SIGINT ignored, and the cell could not stop
"${CELL_COMMAND[@]}" "$i" &
child=$!
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break  # a trapped signal ends `wait` early; the cell is still stopping
done
if [ "$stop" = USR2 ] && [ "$rc" -ne 0 ]; then
  if [ "${SLURM_RESTART_COUNT:-0}" -lt "$MAX_REQUEUES" ]; then
    echo "=== $(stamp) requeueing $task: it resumes cell $cell from its last checkpoint"
    scontrol requeue "$task"
  else
    echo "=== $(stamp) not requeueing $task: it was requeued $MAX_REQUEUES times already; submit the plan again"
  fi
fi
echo "=== $(stamp) cell $cell: exit $rc"
exit "$rc"
)SH";
  return s;
}

std::string report_script(const Plan& plan, const std::vector<std::string>& report_command, const SlurmOptions& o) {
  const fs::path dir = fs::absolute(slurm_dir(plan)).lexically_normal();
  std::string s = header(plan, job_name(plan) + "-report", (dir / "logs" / "report.log").string(), o, false);
  s += fmt::format("# clcp-bench: the report of plan {}, once every cell job has ended (afterany).\n", plan.fingerprint());
  s += "set -u\n";
  s += "echo \"=== $(date -u +%Y-%m-%dT%H:%M:%SZ) report of plan " + plan.fingerprint() + ": Slurm job $SLURM_JOB_ID\"\n";
  s += "exec " + shell_join(report_command) + "\n";
  return s;
}

SlurmSubmission submit_slurm(const Plan& plan, const std::vector<std::string>& cell_command,
                             const std::vector<std::string>& report_command, const SlurmOptions& o,
                             const std::vector<size_t>& skip) {
  check_slurm_options(o);
  SlurmSubmission sub;
  sub.dir = slurm_dir(plan);
  const fs::path cell_file = sub.dir / "cell.sbatch", report_file = sub.dir / "report.sbatch";
  sub.cell_script = cell_script(plan, cell_command, o);
  sub.report_script = report_script(plan, report_command, o);
  write_atomic(cell_file, sub.cell_script);
  write_atomic(report_file, sub.report_script);
  fs::permissions(cell_file, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  fs::permissions(report_file, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  fs::create_directories(sub.dir / "logs");

  if (!o.dry_run && !find_on_path("sbatch"))
    fail("--executor slurm: sbatch not found on PATH; run on a Slurm login node (or load the Slurm module), or add "
         "--dry-run to see the scripts without submitting");

  const std::set<size_t> skipped(skip.begin(), skip.end());
  std::vector<std::string> task_of(plan.cells.size());  // "<job>_<i>" of each submitted cell
  std::vector<std::string> submitted;                   // job ids so far, for the error message
  auto sbatch = [&](std::vector<std::string> argv, const std::string& what) -> std::string {
    sub.sbatch_commands.push_back(argv);
    if (o.dry_run) return fmt::format("JOB{}", sub.sbatch_commands.size());
    const ProcessResult r = run_process(argv);
    const std::string id = r.exit_code == 0 ? parse_job_id(r.out) : "";
    if (id.empty()) {
      const std::string msg = first_line(r.err.empty() ? r.out : r.err);
      fail("sbatch refused {}: {}{}", what, msg.empty() ? fmt::format("exit code {}", r.exit_code) : msg,
           submitted.empty() ? std::string("; nothing was submitted")
                             : fmt::format("; already submitted: {} (remove them with scancel {})",
                                           fmt::join(submitted, ", "), fmt::join(submitted, " ")));
    }
    submitted.push_back(id);
    return id;
  };

  const auto waves = plan.waves();
  std::vector<size_t> first;
  for (size_t i : waves.empty() ? std::vector<size_t>{} : waves[0])
    if (!skipped.count(i)) first.push_back(i);
  if (!first.empty()) {
    std::string array = slurm_index_list(first);
    if (o.array_limit > 0) array += fmt::format("%{}", o.array_limit);
    SlurmJob job{sbatch({"sbatch", "--parsable", "--array=" + array, cell_file.string()}, "the job array"), first};
    for (size_t i : first) task_of[i] = fmt::format("{}_{}", job.job_id, i);
    sub.jobs.push_back(job);
  }
  for (size_t w = 1; w < waves.size(); ++w)
    for (size_t i : waves[w]) {
      if (skipped.count(i)) continue;
      std::vector<std::string> deps;
      for (size_t d : plan.cells[i].after)
        if (!task_of[d].empty()) deps.push_back(task_of[d]);
      std::vector<std::string> argv{"sbatch", "--parsable", fmt::format("--array={}", i)};
      if (!deps.empty())
        argv.insert(argv.end(), {fmt::format("--dependency=afterok:{}", fmt::join(deps, ":")), "--kill-on-invalid-dep=yes"});
      argv.push_back(cell_file.string());
      SlurmJob job{sbatch(argv, fmt::format("cell {} ({})", i, plan.cells[i].id)), {i}};
      task_of[i] = fmt::format("{}_{}", job.job_id, i);
      sub.jobs.push_back(job);
    }
  std::vector<std::string> report_argv{"sbatch", "--parsable"};
  if (!sub.jobs.empty()) {
    std::vector<std::string> ids;
    for (const auto& j : sub.jobs) ids.push_back(j.job_id);
    report_argv.push_back(fmt::format("--dependency=afterany:{}", fmt::join(ids, ":")));
  }
  report_argv.push_back(report_file.string());
  sub.report_job = sbatch(report_argv, "the report job");
  if (o.dry_run) {
    sub.report_job.clear();
    for (auto& j : sub.jobs) j.job_id.clear();
    return sub;
  }

  const fs::path record = sub.dir / "submissions.json";
  json all = fs::exists(record) ? read_json(record) : json{{"plan_fingerprint", plan.fingerprint()}, {"submissions", json::array()}};
  json entry = {{"submitted", utc_now()}, {"report_job", sub.report_job}, {"jobs", json::array()},
                {"sbatch", sub.sbatch_commands}};
  for (const auto& j : sub.jobs) entry["jobs"].push_back({{"job_id", j.job_id}, {"cells", j.cells}});
  all["submissions"].push_back(entry);
  write_json_atomic(record, all);
  return sub;
}

std::map<size_t, SlurmTaskState> query_slurm(const Plan& plan, const fs::path& dir) {
  std::map<size_t, SlurmTaskState> out;
  if (!fs::exists(dir / "submissions.json") || !find_on_path("squeue")) return out;
  const ProcessResult r = run_process({"squeue", "--noheader", "--array", "--name=" + job_name(plan), "--format=%i|%T|%r"});
  if (r.exit_code != 0) return out;
  size_t pos = 0;
  while (pos < r.out.size()) {
    const size_t nl = std::min(r.out.find('\n', pos), r.out.size());
    const std::string line = r.out.substr(pos, nl - pos);
    pos = nl + 1;
    const auto bar1 = line.find('|'), bar2 = line.find('|', bar1 == std::string::npos ? bar1 : bar1 + 1);
    const auto us = line.rfind('_', bar1);
    if (bar1 == std::string::npos || bar2 == std::string::npos || us == std::string::npos) continue;
    size_t index = 0;
    try {
      index = std::stoul(line.substr(us + 1, bar1 - us - 1));
    } catch (const std::exception&) {
      continue;  // a pending array's compressed task range ("123_[0-3]") without --array support
    }
    if (index >= plan.cells.size()) continue;
    out[index] = {line.substr(0, bar1), line.substr(bar1 + 1, bar2 - bar1 - 1), line.substr(bar2 + 1)};
  }
  return out;
}

}  // namespace clcp
