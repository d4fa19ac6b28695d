// `clcp-bench run --plan FILE --cell i` / `--report`, `--executor slurm --dry-run` and `clcp-bench status`, as a
// scheduler and a user run them (the real Slurm is tests/slurm/).
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;
using clcp::test::small_synth_root;

namespace {
std::string grid(const std::string& extra = "") {
  return "run --protocol dg_acdc --scale ci --threads 2 --data-root " + small_synth_root().string() + " " + extra;
}
// Runs clcp-bench in `dir` (the plan records the working directory, as a user's shell has one).
clcp::test::CommandResult in_dir(const fs::path& dir, const std::string& args) {
  fs::create_directories(dir);
  return clcp::test::run_command("cd '" + dir.string() + "' && SOURCE_DATE_EPOCH=1767225600 " +
                                 std::string(CLCP_BENCH_EXE) + " " + args);
}
fs::path plan_file_of(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() == "plan.json" && e.path().parent_path().parent_path().filename() == "slurm") return e.path();
  FAIL("no slurm/<fingerprint>/plan.json under " << dir);
  return {};
}
}  // namespace

TEST_CASE("a dry-run Slurm submission prints the array script and writes a plan whose cell runs as `run` does") {
  const fs::path root = fs::temp_directory_path() / "clcp_plan_cli";
  fs::remove_all(root);
  const auto dry = in_dir(root / "slurm", grid("--executor slurm --dry-run --partition debug --time 00:30:00"));
  INFO(dry.output);
  REQUIRE(dry.exit_code == 0);
  for (const char* want : {"# --dry-run: nothing submitted", "#SBATCH --partition=debug", "#SBATCH --time=00:30:00",
                           "#SBATCH --signal=B:USR2@120", "sbatch --parsable --array=0 ",
                           "sbatch --parsable --dependency=afterany:JOB1 "})
    CHECK(dry.output.find(want) != std::string::npos);
  const fs::path plan = plan_file_of(root / "slurm");
  CHECK(fs::exists(root / "slurm/results/dg_acdc" /
                   ("plan-ci-" + clcp::read_json(plan)["fingerprint"].get<std::string>() + ".json")));

  // Cell 0 of the plan, run from another folder (as a Slurm task would before --chdir), and the same grid run by
  // the local executor: the same bundle bytes and the same report.
  const auto cell = in_dir(root, "run --plan " + plan.string() + " --cell 0");
  INFO(cell.output);
  REQUIRE(cell.exit_code == 0);
  const auto report = in_dir(root, "run --plan " + plan.string() + " --report");
  REQUIRE(report.exit_code == 0);
  const auto local = in_dir(root / "local", grid());
  REQUIRE(local.exit_code == 0);
  const fs::path a = root / "local/results/dg_acdc", b = root / "slurm/results/dg_acdc";
  const std::string id = clcp::read_json(plan)["cells"][0];
  for (const char* f : {"metrics.json", "evidence/acdc_val.jsonl", "checkpoints/iter_12.safetensors"})
    CHECK(clcp::read_file(a / id / f) == clcp::read_file(b / id / f));
  CHECK(clcp::read_json(b / id / "provenance.json")["executor"]["cell"] == 0);
  CHECK(clcp::read_json(a / id / "provenance.json")["rerun"] == clcp::read_json(b / id / "provenance.json")["rerun"]);
  for (const char* f : {"report.md", "report.csv"})
    CHECK(clcp::read_file(a / "report-ci" / f) == clcp::read_file(b / "report-ci" / f));
  // Done cells cost nothing the second time; status shows the cell done.
  const auto again = in_dir(root, "run --plan " + plan.string() + " --cell 0");
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("already done") != std::string::npos);
  const auto status = in_dir(root / "slurm", "status --protocol dg_acdc");
  INFO(status.output);
  CHECK(status.exit_code == 0);
  CHECK(status.output.find("1 cells: 1 done") != std::string::npos);
  CHECK(status.output.find("  done         " + id) != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("a plan cell refuses a wrong index, an edited plan, grid options and a changed protocol with one line") {
  const fs::path root = fs::temp_directory_path() / "clcp_plan_cli_errors";
  fs::remove_all(root);
  // A protocol of our own, so it can change after the plan is made.
  auto proto = clcp::read_json(fs::path(CLCP_SOURCE_DIR) / "protocols/dg_acdc.json");
  clcp::write_json_atomic(root / "mine.json", proto);
  REQUIRE(in_dir(root, "run --protocol " + (root / "mine.json").string() + " --scale ci --threads 2 --data-root " +
                           small_synth_root().string() + " --executor slurm --dry-run")
              .exit_code == 0);
  const fs::path plan = plan_file_of(root);
  const auto range = run_cli("run --plan " + plan.string() + " --cell 3");
  CHECK(range.exit_code == 2);
  CHECK(range.output.find("--cell 3: " + plan.string() + " has 1 cells (0..0)") != std::string::npos);
  const auto mixed = run_cli("run --plan " + plan.string() + " --cell 0 --seed 4");
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.output.find("--seed cannot be combined with --plan") != std::string::npos);
  const auto neither = run_cli("run --plan " + plan.string());
  CHECK(neither.output.find("pass exactly one of --cell INDEX or --report") != std::string::npos);

  proto["optimizer"]["lr"] = 0.02;
  clcp::write_json_atomic(root / "mine.json", proto);
  const auto moved = run_cli("run --plan " + plan.string() + " --cell 0");
  INFO(moved.output);
  CHECK(moved.exit_code == 2);
  CHECK(moved.output.find("the plan was made for protocol fingerprint") != std::string::npos);
  CHECK(moved.output.find("plan the run again") != std::string::npos);

  auto j = clcp::read_json(plan);
  j["plan"]["run"]["threads"] = 1;
  clcp::write_json_atomic(plan, j);
  const auto edited = run_cli("run --plan " + plan.string() + " --cell 0");
  CHECK(edited.exit_code == 2);
  CHECK(edited.output.find("does not match its content") != std::string::npos);

  const auto no_sbatch = clcp::test::run_command("cd '" + root.string() + "' && PATH=/nonexistent " +
                                                 std::string(CLCP_BENCH_EXE) + " " + grid("--executor slurm"));
  CHECK(no_sbatch.exit_code == 2);
  CHECK(no_sbatch.output.find("--executor slurm: sbatch not found on PATH") != std::string::npos);
  const auto stray = run_cli(grid("--partition gpu --out " + (root / "x").string()));
  CHECK(stray.exit_code == 2);
  CHECK(stray.output.find("--partition is an option of --executor slurm") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("status lists every planned cell of a results folder, the never-run ones too") {
  const fs::path root = fs::temp_directory_path() / "clcp_status_cli";
  fs::remove_all(root);
  REQUIRE(in_dir(root, grid("--seed 0,1 --executor slurm --dry-run")).exit_code == 0);
  const auto st = in_dir(root, "status");
  INFO(st.output);
  CHECK(st.exit_code == 0);
  CHECK(st.output.find("dg_acdc ci — protocol fingerprint") != std::string::npos);
  CHECK(st.output.find("2 cells: 2 never run") != std::string::npos);
  const auto none = run_cli("status " + (root / "nowhere").string());
  CHECK(none.exit_code == 2);
  CHECK(none.output.find("no such folder or file") != std::string::npos);
  fs::remove_all(root);
}
