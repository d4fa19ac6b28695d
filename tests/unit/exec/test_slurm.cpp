// The Slurm executor without a cluster: the batch scripts, the index lists, the option checks, and the submission
// sequence against a stand-in `sbatch` on PATH that records its arguments (the real cluster is tests/slurm/).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/exec/process.hpp"
#include "suite/exec/slurm.hpp"

namespace fs = std::filesystem;
using clcp::CellKind;
using clcp::Plan;
using clcp::SlurmOptions;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clcp::UserError& e) {
    return e.what();
  }
  return "";
}

Plan slurm_plan_of(const fs::path& out, const std::vector<std::vector<size_t>>& after) {
  Plan p;
  p.protocol_name = "dg_acdc";
  p.scale = "ci";
  p.protocol_fingerprint = "a5a3ee1b2de86e59";
  p.protocol = {{"protocol", "dg_acdc"}, {"scale", "ci"}};
  p.run.out = out;
  p.run.cwd = "/work/x";
  for (size_t i = 0; i < after.size(); ++i) {
    clcp::PlanCell c;
    c.kind = after[i].empty() ? CellKind::pretrain : CellKind::finetune;
    c.id = "cell" + std::to_string(i) + "-0123456789ab";
    c.after = after[i];
    p.cells.push_back(c);
  }
  return p;
}

// A stand-in sbatch: appends its arguments to CALLS and prints job ids 100, 101, … (or fails with a message).
struct FakeSbatch {
  fs::path dir = fs::temp_directory_path() / "clcp_fake_sbatch";
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  explicit FakeSbatch(const std::string& refuse = "") {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string body = "#!/bin/sh\necho \"$*\" >> " + (dir / "calls").string() + "\n";
    if (!refuse.empty())
      body += "echo 'sbatch: error: " + refuse + "' >&2\nexit 1\n";
    else
      body += "n=$(wc -l < " + (dir / "calls").string() + ")\necho $((99 + n))\n";
    clcp::write_atomic(dir / "sbatch", body);
    fs::permissions(dir / "sbatch", fs::perms::owner_all);
    ::setenv("PATH", (dir.string() + ":" + old_path).c_str(), 1);
  }
  ~FakeSbatch() { ::setenv("PATH", old_path.c_str(), 1); }
  std::vector<std::string> calls() const {
    std::vector<std::string> out;
    std::ifstream in(dir / "calls");
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

}  // namespace

TEST_CASE("array indices are written as Slurm ranges") {
  CHECK(clcp::slurm_index_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  CHECK(clcp::slurm_index_list({3}) == "3");
  CHECK(clcp::slurm_index_list({4, 2, 3, 3}) == "2-4");
}

TEST_CASE("the cell script runs cell i of the plan, logs per cell, and checkpoints and requeues on USR2") {
  const Plan p = slurm_plan_of("results", {{}, {}, {}});
  SlurmOptions o;
  o.partition = "gpu";
  o.time = "04:00:00";
  o.gpus_per_task = 1;
  o.cpus_per_task = 8;
  o.account = "proj1";
  const std::string s = clcp::cell_script(p, {"/opt/clcp-bench", "run", "--plan", "/r/plan.json", "--cell"}, o);
  const std::string dir = fs::absolute(clcp::slurm_dir(p)).lexically_normal().string();
  for (const std::string& want : std::vector<std::string>{
           "#!/bin/bash\n", "#SBATCH --job-name=clcp-dg_acdc-" + p.fingerprint() + "\n",
        "#SBATCH --output=" + dir + "/logs/slurm-%A_%a.out\n", "#SBATCH --open-mode=append\n",
        "#SBATCH --chdir=/work/x\n", "#SBATCH --partition=gpu\n", "#SBATCH --account=proj1\n",
        "#SBATCH --time=04:00:00\n", "#SBATCH --cpus-per-task=8\n", "#SBATCH --gpus-per-task=1\n",
        "#SBATCH --requeue\n", "#SBATCH --signal=B:USR2@120\n",
        "CELL_IDS=(cell0-0123456789ab cell1-0123456789ab cell2-0123456789ab)\n", "MAX_REQUEUES=3\n",
        "CELL_COMMAND=(/opt/clcp-bench run --plan /r/plan.json --cell)\n", "exec >>\"$LOGS/$cell.log\" 2>&1\n",
        "trap 'on_signal USR2' USR2\n", "kill -INT \"$child\"", "scontrol requeue \"$task\"",
        "\"${CELL_COMMAND[@]}\" \"$i\" &\n"})
    CHECK(s.find(want) != std::string::npos);
  CHECK(s.find("#SBATCH --signal") < s.find("set -u"));  // every #SBATCH line precedes the first command
  // Without options, no partition/time/GPU lines: the cluster's defaults apply.
  const std::string plain = clcp::cell_script(p, {"clcp-bench", "run", "--plan", "p.json", "--cell"}, SlurmOptions{});
  for (const char* absent : {"--partition", "--time", "--gpus-per-task", "--cpus-per-task", "--account"})
    CHECK(plain.find(absent) == std::string::npos);
  // bash must accept the script (syntax only).
  const fs::path f = fs::temp_directory_path() / "clcp_cell_script.sh";
  clcp::write_atomic(f, s);
  CHECK(clcp::run_process({"bash", "-n", f.string()}).exit_code == 0);
}

TEST_CASE("a dry run writes the scripts and lists the sbatch commands without needing sbatch") {
  const fs::path out = fs::temp_directory_path() / "clcp_slurm_dry";
  fs::remove_all(out);
  const Plan p = slurm_plan_of(out, {{}, {}, {}, {}});
  SlurmOptions o;
  o.dry_run = true;
  o.array_limit = 2;
  const std::string old_path = std::getenv("PATH");
  ::setenv("PATH", "/nonexistent", 1);  // no sbatch anywhere
  const auto sub = clcp::submit_slurm(p, {"clcp-bench", "run", "--plan", "p.json", "--cell"},
                                      {"clcp-bench", "run", "--plan", "p.json", "--report"}, o, {1});
  ::setenv("PATH", old_path.c_str(), 1);
  CHECK(fs::exists(sub.dir / "cell.sbatch"));
  CHECK(fs::exists(sub.dir / "report.sbatch"));
  CHECK(!fs::exists(sub.dir / "submissions.json"));
  REQUIRE(sub.sbatch_commands.size() == 2);
  const std::string cell_file = (sub.dir / "cell.sbatch").string();
  CHECK(sub.sbatch_commands[0] == std::vector<std::string>{"sbatch", "--parsable", "--array=0,2-3%2", cell_file});
  CHECK(sub.sbatch_commands[1] == std::vector<std::string>{"sbatch", "--parsable", "--dependency=afterany:JOB1",
                                                           (sub.dir / "report.sbatch").string()});
  fs::remove_all(out);
}

TEST_CASE("a chained plan is submitted as an array plus per-task afterok dependencies and an afterany report") {
  const fs::path out = fs::temp_directory_path() / "clcp_slurm_chain";
  fs::remove_all(out);
  // 0 and 2 are pretrain cells; 1 waits for 0, 3 for 2, 4 for both.
  const Plan p = slurm_plan_of(out, {{}, {0}, {}, {2}, {0, 2}});
  FakeSbatch sbatch;
  const auto sub = clcp::submit_slurm(p, {"clcp-bench", "run", "--plan", "p.json", "--cell"},
                                      {"clcp-bench", "run", "--plan", "p.json", "--report"}, SlurmOptions{});
  const std::string cell = (sub.dir / "cell.sbatch").string();
  const std::vector<std::string> want{
      "--parsable --array=0,2 " + cell,
      "--parsable --array=1 --dependency=afterok:100_0 --kill-on-invalid-dep=yes " + cell,
      "--parsable --array=3 --dependency=afterok:100_2 --kill-on-invalid-dep=yes " + cell,
      "--parsable --array=4 --dependency=afterok:100_0:100_2 --kill-on-invalid-dep=yes " + cell,
      "--parsable --dependency=afterany:100:101:102:103 " + (sub.dir / "report.sbatch").string()};
  CHECK(sbatch.calls() == want);
  CHECK(sub.report_job == "104");
  REQUIRE(sub.jobs.size() == 4);
  CHECK(sub.jobs[0].cells == std::vector<size_t>{0, 2});
  const auto rec = clcp::read_json(sub.dir / "submissions.json");
  CHECK(rec["plan_fingerprint"] == p.fingerprint());
  CHECK(rec["submissions"][0]["jobs"][3]["job_id"] == "103");
  CHECK(rec["submissions"][0]["report_job"] == "104");
  // A second submission with the pretrain cells done skips them; their dependents no longer wait.
  const auto again = clcp::submit_slurm(p, {"c"}, {"r"}, SlurmOptions{}, {0, 2});
  const auto calls = sbatch.calls();
  REQUIRE(calls.size() == 9);
  CHECK(calls[5] == "--parsable --array=1 " + cell);
  CHECK(clcp::read_json(sub.dir / "submissions.json")["submissions"].size() == 2);
  fs::remove_all(out);
}

TEST_CASE("a submission Slurm refuses stops with Slurm's own message in one line") {
  const fs::path out = fs::temp_directory_path() / "clcp_slurm_refused";
  fs::remove_all(out);
  FakeSbatch sbatch("invalid partition specified: gpux");
  const std::string e = error_of([&] {
    clcp::submit_slurm(slurm_plan_of(out, {{}, {}}), {"c"}, {"r"}, SlurmOptions{});
  });
  CHECK(e == "sbatch refused the job array: sbatch: error: invalid partition specified: gpux; nothing was submitted");
  fs::remove_all(out);
}

TEST_CASE("without sbatch on PATH a submission stops with one line pointing at --dry-run") {
  const fs::path out = fs::temp_directory_path() / "clcp_slurm_nosbatch";
  const std::string old_path = std::getenv("PATH");
  ::setenv("PATH", "/nonexistent", 1);
  const std::string e = error_of([&] { clcp::submit_slurm(slurm_plan_of(out, {{}}), {"c"}, {"r"}, SlurmOptions{}); });
  ::setenv("PATH", old_path.c_str(), 1);
  CHECK(e.find("--executor slurm: sbatch not found on PATH") == 0);
  CHECK(e.find("--dry-run") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("Slurm options are checked before anything is written") {
  SlurmOptions o;
  o.time = "90 minutes";
  CHECK(error_of([&] { clcp::check_slurm_options(o); }).find("--time 90 minutes: expected a Slurm time limit") == 0);
  for (const char* ok : {"04:00:00", "2-00:00:00", "90", "1-12", "30:00"}) {
    o.time = ok;
    CHECK(error_of([&] { clcp::check_slurm_options(o); }).empty());
  }
  o.time = "";
  o.signal = "USR2 at 120";
  CHECK(error_of([&] { clcp::check_slurm_options(o); }).find("--signal USR2 at 120") == 0);
  o.signal = "B:SIGUSR2@300";
  CHECK(error_of([&] { clcp::check_slurm_options(o); }).empty());
  o.partition = "a b";
  CHECK(error_of([&] { clcp::check_slurm_options(o); }).find("--partition 'a b'") == 0);
}
