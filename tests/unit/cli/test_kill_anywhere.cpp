// Kill anywhere: a ci-scale run is SIGKILLed at 15 chosen instants — mid-iteration, mid-checkpoint write, between a
// checkpoint's files, mid-evaluation, mid-evidence and mid-metrics write, mid final record, mid-report — and once
// stopped with SIGTERM. After each death no bundle looks done before it is (status.json is "done" only when the
// bundle verifies and holds the final numbers; otherwise it reads "interrupted"); the next run resumes or restarts
// from what the death left, and the runs end at a metrics.json, train log and final checkpoint byte-identical to an
// uninterrupted run.
//
// The instants are hit deterministically, not by timing: CLCP_FAULT_KILL (suite/core/fault.hpp) names a fault point
// in the write path, the finetune loop or the evaluation at which the process SIGKILLs itself.
#include <catch2/catch.hpp>
#include <signal.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"
#include "suite/results/integrity.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

namespace {

// A data set of its own, smaller than the shared one where it costs time (1 Cityscapes val image, 1 ACDC image
// per condition): the schedule is still the ci scale's 12 iterations with checkpoints after 6 and 12.
const fs::path& kill_data() {
  static const fs::path dir = clcp::test::shared_synth("cli_kill", "--seed 5 --train-images 8 --val-images 1 "
                                                                   "--acdc-per-condition 1");
  return dir;
}

std::string ci_args(const fs::path& out) {
  return "run --protocol dg_acdc --scale ci --threads 2 --data-root " + kill_data().string() + " --out " + out.string();
}

clcp::test::CommandResult run_killed_at(const std::string& fault, const fs::path& out) {
  return clcp::test::run_command("env CLCP_FAULT_KILL='" + fault + "' " + std::string(CLCP_BENCH_EXE) + " " + ci_args(out));
}

fs::path killed_cell(const fs::path& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out / "dg_acdc", ec))
    if (fs::exists(e.path() / "spec.json")) return e.path();
  return {};
}

// The deterministic fields of train_log.jsonl (images_per_s and time_s are wall clock).
std::string log_fields(const fs::path& cell) {
  std::istringstream in(clcp::read_file(cell / "train_log.jsonl"));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    out += nlohmann::json{{"iter", j["iter"]}, {"loss", j["loss"]}, {"lr", j["lr"]}, {"acc_seg", j["acc_seg"]}}.dump() + "\n";
  }
  return out;
}

bool has_temp_files(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

struct Reference {
  std::string cell, metrics, log, checkpoint;
  fs::path dir;  // the uninterrupted run's cell folder
};

// What a kill leaves must not look done unless it is: status.json reads "done" only when the bundle verifies and holds
// the final numbers, otherwise "interrupted" (never "running" once its process is gone).
void check_not_done_unless_done(const fs::path& out, const Reference& ref) {
  const fs::path cell = killed_cell(out);
  if (cell.empty() || !fs::exists(cell / "status.json")) return;
  const auto seen = clcp::observed_state(clcp::Bundle(cell));
  if (seen == "done") {
    CHECK(clcp::verify_bundle(cell).ok);
    CHECK(clcp::read_file(cell / "metrics.json") == ref.metrics);
  } else {
    CHECK(seen == "interrupted");
    CHECK((!fs::exists(cell / "metrics.json") || clcp::read_file(cell / "metrics.json") == ref.metrics));
  }
}

// What a kill leaves on disk is a piece of the uninterrupted run, never something else: the checkpoint latest.json
// names is complete and byte-identical to the reference's of that iteration (a resume starts from exactly it), and
// every whole line of train_log.jsonl equals the reference's line of that iteration (a torn last line is allowed).
void check_on_disk_is_reference(const fs::path& out, const Reference& ref) {
  const fs::path cell = killed_cell(out);
  if (cell.empty()) return;
  const fs::path latest = cell / "checkpoints/latest.json";
  if (fs::exists(latest)) {
    const auto l = clcp::read_json(latest);
    for (const char* key : {"weights", "state"}) {
      const fs::path file = cell / "checkpoints" / l[key].get<std::string>();
      INFO(file);
      REQUIRE(fs::exists(file));
      CHECK(clcp::read_file(file) == clcp::read_file(ref.dir / "checkpoints" / l[key].get<std::string>()));
    }
  }
  if (!fs::exists(cell / "train_log.jsonl")) return;
  std::istringstream want(ref.log);
  std::map<int64_t, std::string> ref_lines;  // iteration → the reference's deterministic fields
  for (std::string line; std::getline(want, line);) ref_lines[nlohmann::json::parse(line)["iter"].get<int64_t>()] = line;
  std::istringstream in(clcp::read_file(cell / "train_log.jsonl"));
  for (std::string line; std::getline(in, line);) {
    if (in.eof()) break;  // no newline after it: the torn line a kill mid-append leaves
    const auto j = nlohmann::json::parse(line);
    const auto iter = j["iter"].get<int64_t>();
    INFO("train_log.jsonl line of iteration " << iter);
    REQUIRE(ref_lines.count(iter) == 1);
    CHECK(nlohmann::json{{"iter", j["iter"]}, {"loss", j["loss"]}, {"lr", j["lr"]}, {"acc_seg", j["acc_seg"]}}.dump() ==
          ref_lines[iter]);
  }
}

}  // namespace

// The 15 kills are chained on one --out, in the order a run reaches them: each run resumes (or restarts) from what
// the previous kill left and is itself killed at the next point, so every point is reached from a killed state, and
// one last plain run must end byte-identical to an uninterrupted run. Run independently, the 15 points cost 15
// reruns to the end (about 4 minutes); chained, the training behind them is done about three times.
TEST_CASE("a run killed at any of 15 points, or stopped by SIGTERM, resumes to byte-identical results") {
  const fs::path base = fs::temp_directory_path() / ("clcp_kill_anywhere_" + std::to_string(::getpid()));
  fs::remove_all(base);
  const auto r = run_cli(ci_args(base / "reference"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path ref_cell = killed_cell(base / "reference");
  const Reference ref{ref_cell.filename().string(), clcp::read_file(ref_cell / "metrics.json"), log_fields(ref_cell),
                      clcp::read_file(ref_cell / "checkpoints/iter_12.safetensors"), ref_cell};

  const std::vector<std::pair<const char*, const char*>> points{
      {"spec.json:half", "mid spec.json write, before anything else of the cell"},
      {"iteration:1:forward", "mid-iteration 2, before the first checkpoint"},
      {"train_log.jsonl:half", "mid train_log.jsonl append (a torn line)"},
      {"iter_6.safetensors:half", "mid checkpoint weights write"},
      {"iter_6.state.safetensors:renamed", "checkpoint files written, latest.json not yet"},
      {"latest.json:synced", "latest.json on disk under its temp name, not renamed"},
      {"iteration:6:forward", "mid-iteration 7, after the first checkpoint"},
      {"iteration:10:forward", "mid-iteration 11, resumed from iteration 6"},
      {"iter_12.safetensors:synced", "final checkpoint written, not yet renamed"},
      {"eval:acdc_val:2", "mid-evaluation (2 of 4 ACDC images)"},
      {"cityscapes_val.jsonl:half", "mid evidence write"},
      {"metrics.json:half", "mid metrics.json write"},
      {"metrics.json:renamed", "metrics.json written, final record not yet"},
      {"status.json:synced#3", "final record (status done) on disk under its temp name"},
      {"report-ci/report.md:half", "mid-report, after the cell is done"},
  };
  const fs::path out = base / "chain";
  int killed = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& [fault, what] = points[i];
    INFO("kill point " << i + 1 << ": " << what << " (CLCP_FAULT_KILL=" << fault << ")");
    const auto cut = run_killed_at(fault, out);
    INFO(cut.output);
    CHECK(cut.exit_code == 128 + SIGKILL);  // it died at the point, by SIGKILL
    killed += cut.exit_code == 128 + SIGKILL;
    check_not_done_unless_done(out, ref);
    check_on_disk_is_reference(out, ref);
  }
  CHECK(killed == static_cast<int>(points.size()));
  const auto rerun = run_cli(ci_args(out));
  INFO(rerun.output);
  REQUIRE(rerun.exit_code == 0);
  const fs::path done = killed_cell(out);
  CHECK(done.filename() == ref.cell);
  CHECK(clcp::read_json(done / "status.json")["state"] == "done");
  CHECK(clcp::verify_bundle(done).ok);
  CHECK(clcp::read_file(done / "metrics.json") == ref.metrics);
  CHECK(log_fields(done) == ref.log);
  CHECK(clcp::read_file(done / "checkpoints/iter_12.safetensors") == ref.checkpoint);
  CHECK(!has_temp_files(done));

  // SIGTERM (what Slurm and Kubernetes send): checkpoint, "interrupted", exit 143, and the same bytes on resume.
  const fs::path term = base / "sigterm";
  clcp::test::CliProcess run(ci_args(term));
  fs::path cell;
  REQUIRE(run.wait_until([&] {
    cell = killed_cell(term);
    std::error_code ec;
    return !cell.empty() && fs::exists(cell / "train_log.jsonl", ec) &&
           clcp::read_file(cell / "train_log.jsonl").find("\"iter\":4") != std::string::npos;
  }));
  run.signal(SIGTERM);
  const auto stopped = run.finish();
  INFO(stopped.output);
  CHECK(stopped.exit_code == 143);
  CHECK_THAT(stopped.output, Catch::Contains("clcp-bench: stopped: cell " + cell.filename().string() +
                                             ": interrupted after iteration "));
  CHECK(clcp::read_json(cell / "status.json")["state"] == "interrupted");
  CHECK(fs::exists(cell / "checkpoints/latest.json"));
  const auto resumed = run_cli(ci_args(term));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains("resuming"));
  CHECK(clcp::read_file(cell / "metrics.json") == ref.metrics);
  CHECK(log_fields(cell) == ref.log);
  fs::remove_all(base);
}

TEST_CASE("a SIGKILLed run reads as interrupted in the report, and the next run says so and resumes") {
  const fs::path out = fs::temp_directory_path() / ("clcp_kill_report_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const auto cut = clcp::test::run_command("env CLCP_FAULT_KILL='iteration:8:forward' " + std::string(CLCP_BENCH_EXE) +
                                           " " + ci_args(out));
  REQUIRE(cut.exit_code == 128 + SIGKILL);
  const fs::path cell = killed_cell(out);
  CHECK(clcp::read_json(cell / "status.json")["state"] == "running");  // what the dead process left
  const auto report = run_cli("report " + cell.string() + " --format md --out " + (out / "r").string());
  CHECK(report.exit_code == 0);
  CHECK_THAT(clcp::read_file(out / "r/report.md"), Catch::Contains("| interrupted"));
  const auto rerun = run_cli(ci_args(out));
  INFO(rerun.output);
  REQUIRE(rerun.exit_code == 0);
  CHECK_THAT(rerun.output, Catch::Contains("cell " + cell.filename().string() + ": interrupted: its previous run (pid "));
  CHECK_THAT(rerun.output, Catch::Contains("ended during stage finetune without finishing (killed or crashed); "
                                           "running it again"));
  CHECK_THAT(rerun.output, Catch::Contains("resuming from its last checkpoint ("));
  fs::remove_all(out);
}
