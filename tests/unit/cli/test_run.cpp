// End-to-end: `clcp-bench run` on a small embedded data set at the ci scale, as a user runs it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;
using clcp::test::small_synth_root;

namespace {
std::string ci_run(const fs::path& out, const std::string& extra = "") {
  return "run --protocol dg_acdc --scale ci --threads 2 --data-root " + small_synth_root().string() + " --out " +
         out.string() + " " + extra;
}

fs::path only_cell(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (fs::exists(e.path() / "spec.json")) return e.path();
  FAIL("no cell bundle under " << out);
  return {};
}
}  // namespace

namespace {
// Two runs of the same command into two folders, made once per test run and shared by the tests below (each test
// case is a process of its own: shared_run() keeps them from training the same cell four times).
struct TwinRuns {
  fs::path a, b;
  int exit_a = -1, exit_b = -1;
  std::string output_a;
};
const TwinRuns& twin_runs() {
  static const TwinRuns runs = [] {
    const auto& ra = clcp::test::small_synth_ci_run();
    const auto rb = clcp::test::shared_run(
        "cli_run_b", "run --protocol dg_acdc --scale ci --threads 2 --data-root " + small_synth_root().string());
    return TwinRuns{ra.out, rb.out, ra.exit_code, rb.exit_code, ra.output};
  }();
  return runs;
}
}  // namespace

TEST_CASE("two identical runs give byte-identical metrics, evidence and checkpoints") {
  const auto& t = twin_runs();
  INFO(t.output_a);
  REQUIRE(t.exit_a == 0);
  REQUIRE(t.exit_b == 0);
  const fs::path ca = only_cell(t.a), cb = only_cell(t.b);
  CHECK(ca.filename() == cb.filename());  // content-addressed: same inputs, same cell id
  CHECK(clcp::read_file(ca / "metrics.json") == clcp::read_file(cb / "metrics.json"));
  CHECK(clcp::read_file(ca / "evidence/cityscapes_val.jsonl") == clcp::read_file(cb / "evidence/cityscapes_val.jsonl"));
  CHECK(clcp::read_file(ca / "evidence/acdc_val.jsonl") == clcp::read_file(cb / "evidence/acdc_val.jsonl"));
  CHECK(clcp::read_file(ca / "checkpoints/iter_12.safetensors") ==
        clcp::read_file(cb / "checkpoints/iter_12.safetensors"));
}

TEST_CASE("a finished run leaves a complete bundle and a report that names its cell") {
  const auto& t = twin_runs();
  REQUIRE(t.exit_a == 0);
  const fs::path ca = only_cell(t.a);
  for (const char* f : {"spec.json", "provenance.json", "status.json", "metrics.json", "train_log.jsonl",
                        "checkpoints/latest.json", "evidence/cityscapes_val.jsonl", "evidence/acdc_val.jsonl"})
    CHECK(fs::exists(ca / f));
  CHECK(clcp::read_json(ca / "status.json")["state"] == "done");
  const auto metrics = clcp::read_json(ca / "metrics.json");
  CHECK(metrics["target"]["per_condition"].size() == 4);
  CHECK(metrics["source"]["images"] == 4);
  CHECK(metrics["target"]["pooled"]["images"] == 8);
  CHECK(metrics["source"]["best_constant_class_mIoU"].get<double>() > 0.0);
  // Provenance holds the command that re-runs exactly this cell (the protocol's ci grid is random/full/seed 0).
  const auto prov = clcp::read_json(ca / "provenance.json");
  CHECK(prov["rerun"] == "clcp-bench run --protocol dg_acdc --scale ci --init random --finetune full --seed 0 "
                         "--threads 2 --data-root " + small_synth_root().string() + " --out " + t.a.string() + " --force");
  // Markdown and HTML list every run by its cell id; the LaTeX tables name the experiment.
  for (const char* f : {"report.md", "report.html"}) {
    const fs::path report = t.a / "dg_acdc/report-ci" / f;
    REQUIRE(fs::exists(report));
    CHECK(clcp::read_file(report).find(ca.filename().string()) != std::string::npos);
  }
  REQUIRE(fs::exists(t.a / "dg_acdc/report-ci/report.tex"));
  CHECK(clcp::read_file(t.a / "dg_acdc/report-ci/report.tex").find("random") != std::string::npos);
}

TEST_CASE("running a finished cell again says so and does not train") {
  const auto& t = twin_runs();
  REQUIRE(t.exit_a == 0);
  const fs::path a = clcp::test::private_copy(t.a, "clcp_run_again");
  const auto again = run_cli(ci_run(a));
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("already done") != std::string::npos);
  CHECK(again.output.find("finetune") == std::string::npos);
}

TEST_CASE("a run interrupted after its first checkpoint resumes to the same metrics as an uninterrupted run") {
  const auto& t = twin_runs();  // the uninterrupted run
  REQUIRE(t.exit_a == 0);
  const fs::path cut = fs::temp_directory_path() / "clcp_run_cut";
  fs::remove_all(cut);
  const fs::path cell = only_cell(t.a);
  const fs::path first_ckpt = cut / "dg_acdc" / cell.filename() / "checkpoints/iter_6.safetensors";
  const auto interrupted = clcp::test::run_cli_interrupt_when(ci_run(cut), first_ckpt);
  INFO(interrupted.output);
  CHECK(interrupted.exit_code != 0);
  CHECK(clcp::read_json(cut / "dg_acdc" / cell.filename() / "status.json")["state"] != "done");
  const auto resumed = run_cli(ci_run(cut));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.output.find("resuming") != std::string::npos);
  CHECK(clcp::read_file(cut / "dg_acdc" / cell.filename() / "metrics.json") == clcp::read_file(cell / "metrics.json"));
}
