// Kill anywhere: a ci-scale run is SIGKILLed at 15 chosen instants — mid-iteration, mid-checkpoint write, between a
// checkpoint's files, mid-evaluation, mid-evidence and mid-metrics write, mid final record, mid-report — and once
// stopped with SIGTERM. After each death no bundle looks done before it is (status.json is "done" only when the
// bundle verifies and holds the final numbers; otherwise it reads "interrupted"), and a plain rerun resumes or
// restarts to a metrics.json, train log and final checkpoint byte-identical to an uninterrupted run.
//
// The instants are hit deterministically, not by timing: CLCP_FAULT_KILL (suite/core/fault.hpp) names a fault point
// in the write path, the finetune loop or the evaluation at which the process SIGKILLs itself.
#include <catch2/catch.hpp>
#include <signal.h>

#include <filesystem>
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

std::string ci(const fs::path& out) {
  return "run --protocol dg_acdc --scale ci --threads 2 --data-root " + kill_data().string() + " --out " + out.string();
}

clcp::test::CommandResult run_killed_at(const std::string& fault, const fs::path& out) {
  return clcp::test::run_command("env CLCP_FAULT_KILL='" + fault + "' " + std::string(CLCP_BENCH_EXE) + " " + ci(out));
}

fs::path only_cell(const fs::path& out) {
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

struct Point {
  const char* fault;  // CLCP_FAULT_KILL
  const char* what;
  const char* from;   // "" = an empty --out; else the state the run starts from (a copy of an earlier kill's)
};

struct Reference {
  std::string cell, metrics, log, checkpoint;
};

// Whatever the kill left must not look done unless it is; then a plain rerun must end where the reference did.
void check_kill_and_rerun(const fs::path& out, const Reference& ref) {
  const fs::path cell = only_cell(out);
  if (!cell.empty() && fs::exists(cell / "status.json")) {
    const auto seen = clcp::observed_state(clcp::Bundle(cell));
    if (seen == "done") {
      CHECK(clcp::verify_bundle(cell).ok);  // done only when it is: the final record verifies …
      CHECK(clcp::read_file(cell / "metrics.json") == ref.metrics);  // … and holds the final numbers
    } else {
      CHECK(seen == "interrupted");  // never "running" once its process is gone
      CHECK((!fs::exists(cell / "metrics.json") || clcp::read_file(cell / "metrics.json") == ref.metrics));
    }
  }
  const auto rerun = run_cli(ci(out));
  INFO(rerun.output);
  REQUIRE(rerun.exit_code == 0);
  const fs::path done = only_cell(out);
  CHECK(done.filename() == ref.cell);
  CHECK(clcp::read_json(done / "status.json")["state"] == "done");
  CHECK(clcp::verify_bundle(done).ok);
  CHECK(clcp::read_file(done / "metrics.json") == ref.metrics);
  CHECK(log_fields(done) == ref.log);
  CHECK(clcp::read_file(done / "checkpoints/iter_12.safetensors") == ref.checkpoint);
  CHECK(!has_temp_files(done));
}

}  // namespace

TEST_CASE("a run killed at any of 15 points, or stopped by SIGTERM, resumes to byte-identical results") {
  const fs::path base = fs::temp_directory_path() / ("clcp_kill_anywhere_" + std::to_string(::getpid()));
  fs::remove_all(base);
  const auto r = run_cli(ci(base / "reference"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path ref_cell = only_cell(base / "reference");
  const Reference ref{ref_cell.filename().string(), clcp::read_file(ref_cell / "metrics.json"), log_fields(ref_cell),
                      clcp::read_file(ref_cell / "checkpoints/iter_12.safetensors")};

  // Points 7 and 10 also leave the states the later points start from (trained to 6 iterations; trained to the
  // end), so that each later run does not repeat the training before it.
  const std::vector<Point> points{
      {"spec.json:half", "mid spec.json write, before anything else of the cell", ""},
      {"iteration:1:forward", "mid-iteration 2, before the first checkpoint", ""},
      {"train_log.jsonl:half", "mid train_log.jsonl append (a torn line)", ""},
      {"iter_6.safetensors:half", "mid checkpoint weights write", ""},
      {"iter_6.state.safetensors:renamed", "checkpoint files written, latest.json not yet", ""},
      {"latest.json:synced", "latest.json on disk under its temp name, not renamed", ""},
      {"iteration:6:forward", "mid-iteration 7, after the first checkpoint", ""},
      {"iteration:10:forward", "mid-iteration 11, resumed from iteration 6", "p7"},
      {"iter_12.safetensors:synced", "final checkpoint written, not yet renamed", "p7"},
      {"eval:acdc_val:2", "mid-evaluation (2 of 4 ACDC images)", "p7"},
      {"cityscapes_val.jsonl:half", "mid evidence write", "p10"},
      {"metrics.json:half", "mid metrics.json write", "p10"},
      {"metrics.json:renamed", "metrics.json written, final record not yet", "p10"},
      {"status.json:synced#4", "final record (status done) on disk under its temp name", "p10"},
      {"report-ci/report.md:half", "mid-report, after the cell is done", "p10"},
  };
  int killed = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    INFO("kill point " << i + 1 << ": " << p.what << " (CLCP_FAULT_KILL=" << p.fault << ")");
    const fs::path out = base / ("p" + std::to_string(i + 1));
    if (*p.from) fs::copy(base / (std::string(p.from) + "-state"), out, fs::copy_options::recursive);
    const auto cut = run_killed_at(p.fault, out);
    INFO(cut.output);
    CHECK(cut.exit_code == 128 + SIGKILL);  // it died at the point, by SIGKILL
    killed += cut.exit_code == 128 + SIGKILL;
    if (i + 1 == 7 || i + 1 == 10)
      fs::copy(out, base / ("p" + std::to_string(i + 1) + "-state"), fs::copy_options::recursive);
    check_kill_and_rerun(out, ref);
    fs::remove_all(out);
  }
  CHECK(killed == static_cast<int>(points.size()));

  // SIGTERM (what Slurm and Kubernetes send): checkpoint, "interrupted", exit 143, and the same bytes on resume.
  const fs::path out = base / "sigterm";
  clcp::test::CliProcess run(ci(out));
  fs::path cell;
  REQUIRE(run.wait_until([&] {
    cell = only_cell(out);
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
  const auto resumed = run_cli(ci(out));
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
                                           " " + ci(out));
  REQUIRE(cut.exit_code == 128 + SIGKILL);
  const fs::path cell = only_cell(out);
  CHECK(clcp::read_json(cell / "status.json")["state"] == "running");  // what the dead process left
  const auto report = run_cli("report " + cell.string() + " --format md --out " + (out / "r").string());
  CHECK(report.exit_code == 0);
  CHECK_THAT(clcp::read_file(out / "r/report.md"), Catch::Contains("| interrupted"));
  const auto rerun = run_cli(ci(out));
  INFO(rerun.output);
  REQUIRE(rerun.exit_code == 0);
  CHECK_THAT(rerun.output, Catch::Contains("cell " + cell.filename().string() + ": interrupted: its previous run (pid "));
  CHECK_THAT(rerun.output, Catch::Contains("ended during stage finetune without finishing (killed or crashed); "
                                           "running it again"));
  CHECK_THAT(rerun.output, Catch::Contains("resuming from its last checkpoint ("));
  fs::remove_all(out);
}
