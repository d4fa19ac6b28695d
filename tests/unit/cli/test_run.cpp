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

TEST_CASE("two identical runs give byte-identical metrics, evidence and training logs") {
  const fs::path a = fs::temp_directory_path() / "clcp_run_a", b = fs::temp_directory_path() / "clcp_run_b";
  fs::remove_all(a);
  fs::remove_all(b);
  const auto ra = run_cli(ci_run(a));
  INFO(ra.output);
  REQUIRE(ra.exit_code == 0);
  const auto rb = run_cli(ci_run(b));
  REQUIRE(rb.exit_code == 0);
  const fs::path ca = only_cell(a), cb = only_cell(b);
  CHECK(ca.filename() == cb.filename());  // content-addressed: same inputs, same cell id
  CHECK(clcp::read_file(ca / "metrics.json") == clcp::read_file(cb / "metrics.json"));
  CHECK(clcp::read_file(ca / "evidence/cityscapes_val.jsonl") == clcp::read_file(cb / "evidence/cityscapes_val.jsonl"));
  CHECK(clcp::read_file(ca / "evidence/acdc_val.jsonl") == clcp::read_file(cb / "evidence/acdc_val.jsonl"));
  CHECK(clcp::read_file(ca / "checkpoints/iter_12.safetensors") ==
        clcp::read_file(cb / "checkpoints/iter_12.safetensors"));

  SECTION("the bundle is complete and the report shows the cell") {
    for (const char* f : {"spec.json", "provenance.json", "status.json", "metrics.json", "train_log.jsonl",
                          "checkpoints/latest.json", "evidence/cityscapes_val.jsonl", "evidence/acdc_val.jsonl"})
      CHECK(fs::exists(ca / f));
    CHECK(clcp::read_json(ca / "status.json")["state"] == "done");
    const auto metrics = clcp::read_json(ca / "metrics.json");
    CHECK(metrics["target"]["per_condition"].size() == 4);
    CHECK(metrics["source"]["images"] == 4);
    CHECK(metrics["target"]["pooled"]["images"] == 8);
    const std::string md = clcp::read_file(a / "dg_acdc/report-ci/report.md");
    CHECK(md.find("| random | 0 |") != std::string::npos);
    CHECK(fs::exists(a / "dg_acdc/report-ci/report.html"));
    CHECK(fs::exists(a / "dg_acdc/report-ci/report.tex"));
  }
  SECTION("running a finished cell again says so and does not train") {
    const auto again = run_cli(ci_run(a));
    CHECK(again.exit_code == 0);
    CHECK(again.output.find("already done") != std::string::npos);
    CHECK(again.output.find("finetune") == std::string::npos);
  }
}

TEST_CASE("a run interrupted after its first checkpoint resumes to the same metrics as an uninterrupted run") {
  const fs::path full = fs::temp_directory_path() / "clcp_run_full", cut = fs::temp_directory_path() / "clcp_run_cut";
  fs::remove_all(full);
  fs::remove_all(cut);
  REQUIRE(run_cli(ci_run(full)).exit_code == 0);
  const fs::path cell = only_cell(full);
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
