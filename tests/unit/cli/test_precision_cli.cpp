// Training precision as a user chooses it (issue 17): `--precision bf16` on run and pretrain puts the precision into
// the spec, the fingerprint and every cell id (fp32 cells keep their ids), a bf16 ci-scale run gives the same bytes
// twice, and a CPU without AMX-BF16 or AVX512-BF16 is refused in one line before anything runs.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "cli_harness.hpp"
#include "models/precision.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::test;
namespace fs = std::filesystem;

namespace {
// The A2D2 fixture of test_pretrain_cli.cpp (same tag and arguments: rendered once per test run).
const fs::path& pc_a2d2_root() {
  static const fs::path root =
      shared_synth("cli_a2d2", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 "
                               "--a2d2-frames 8");
  return root;
}

fs::path pc_cell(const fs::path& out, const std::string& prefix) {
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0 && fs::exists(e.path() / "spec.json"))
      return e.path();
  return {};
}
}  // namespace

TEST_CASE("a bf16 ci-scale run gives the same bytes twice, is in its spec, fingerprint and cell id, and compares "
          "with fp32",
          "[cli]") {
  if (cpu_bf16_isa() == "none") {
    WARN("SKIPPED: this CPU has neither AMX-BF16 nor AVX512-BF16 (bf16 is refused here; tested below)");
    return;
  }
  const SharedRun& fp32 = small_synth_ci_run();
  REQUIRE(fp32.exit_code == 0);
  const std::string args = "run --protocol dg_acdc --scale ci --init random --finetune full --precision bf16 --threads 2 "
                           "--data-root " + small_synth_root().string();
  const fs::path a = fs::temp_directory_path() / "precision_a", b = fs::temp_directory_path() / "precision_b";
  fs::remove_all(a);
  fs::remove_all(b);
  const auto ra = run_cli(args + " --out " + a.string());
  INFO(ra.output);
  REQUIRE(ra.exit_code == 0);
  const auto rb = run_cli(args + " --out " + b.string());
  REQUIRE(rb.exit_code == 0);
  const fs::path ca = pc_cell(a, "random.full.s0-"), cb = pc_cell(b, "random.full.s0-");
  const fs::path c32 = pc_cell(fp32.out, "random.full.s0-");
  REQUIRE(!ca.empty());
  REQUIRE(!c32.empty());
  CHECK(ca.filename() == cb.filename());
  CHECK(ca.filename() != c32.filename());  // the precision is in the cell id
  CHECK(read_file(ca / "metrics.json") == read_file(cb / "metrics.json"));
  CHECK(sha256_file(ca / "train_log.jsonl") != "");
  const auto spec = read_json(ca / "spec.json"), spec32 = read_json(c32 / "spec.json");
  CHECK(spec.dump().find("\"precision\":\"bf16\"") != std::string::npos);
  CHECK(spec32.dump().find("precision") == std::string::npos);  // fp32 fingerprints predate the key
  CHECK(spec["fingerprint"] != spec32["fingerprint"]);
  // bf16 changes the numbers, within reason: the same tiny model learns about as much
  const auto m = read_json(ca / "metrics.json"), m32 = read_json(c32 / "metrics.json");
  CHECK(m.dump() != m32.dump());
  // compare measures the precision's effect: the one difference it accepts between fingerprints
  const auto cmp = run_cli("compare " + c32.string() + " " + ca.string());
  INFO(cmp.output);
  CHECK(cmp.exit_code == 0);
  CHECK_THAT(cmp.output, Catch::Contains("the recipes differ only in train.precision: A vs B = fp32 vs bf16"));
  const auto js = nlohmann::json::parse(run_cli("compare " + c32.string() + " " + ca.string() + " --json").output);
  CHECK(js["precision"] == "fp32 vs bf16");
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("a bf16 CLCP pretraining (image tower in bf16, lidar tower in fp32) gives the same bytes twice", "[cli]") {
  if (cpu_bf16_isa() == "none") {
    WARN("SKIPPED: this CPU has neither AMX-BF16 nor AVX512-BF16");
    return;
  }
  const std::string args = "pretrain --protocol clcp_a2d2 --scale ci --threads 2 --data-root " +
                           pc_a2d2_root().string();
  const fs::path a = fs::temp_directory_path() / "precision_pre_a", b = fs::temp_directory_path() / "precision_pre_b";
  fs::remove_all(a);
  fs::remove_all(b);
  const auto ra = run_cli(args + " --precision bf16 --out " + a.string());
  INFO(ra.output);
  REQUIRE(ra.exit_code == 0);
  REQUIRE(run_cli(args + " --precision bf16 --out " + b.string()).exit_code == 0);
  const auto r32 = run_cli(args + " --out " + b.string());
  REQUIRE(r32.exit_code == 0);
  std::vector<fs::path> cells;
  for (const auto& e : fs::directory_iterator(b / "clcp_a2d2"))
    if (fs::exists(e.path() / "spec.json")) cells.push_back(e.path());
  REQUIRE(cells.size() == 2);  // bf16 and fp32: two cell ids
  fs::path bf16_b, fp32_b;
  for (const auto& c : cells)
    (read_file(c / "spec.json").find("\"precision\":\"bf16\"") != std::string::npos ||
             read_json(c / "spec.json").dump().find("\"precision\":\"bf16\"") != std::string::npos
         ? bf16_b
         : fp32_b) = c;
  REQUIRE(!bf16_b.empty());
  REQUIRE(!fp32_b.empty());
  const fs::path bf16_a = a / "clcp_a2d2" / bf16_b.filename();
  const std::string enc = "export/image_encoder_epoch01.safetensors";
  CHECK(sha256_file(bf16_a / enc) == sha256_file(bf16_b / enc));
  CHECK(read_file(bf16_a / "metrics.json") == read_file(bf16_b / "metrics.json"));
  CHECK(sha256_file(bf16_b / enc) != sha256_file(fp32_b / enc));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("bf16 on a CPU without AMX-BF16 or AVX512-BF16 is refused in one line by run and pretrain", "[cli]") {
  const fs::path out = fs::temp_directory_path() / "precision_refused";
  fs::remove_all(out);
  ::setenv("CLCP_CPU_BF16_ISA", "none", 1);
  const auto run = run_cli("run --protocol dg_acdc --scale ci --precision bf16 --data-root " +
                           small_synth_root().string() + " --out " + out.string());
  const auto pre = run_cli("pretrain --protocol simclr_a2d2 --scale ci --precision bf16 --data-root " +
                           pc_a2d2_root().string() + " --out " + out.string());
  const auto bad = run_cli("run --protocol dg_acdc --scale ci --precision fp16 --data-root " +
                           small_synth_root().string() + " --out " + out.string());
  ::unsetenv("CLCP_CPU_BF16_ISA");
  INFO(run.output);
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.output, Catch::Contains("dg_acdc.json: train.precision: bf16 needs a CPU with AMX-BF16 or "
                                         "AVX512-BF16") && Catch::Contains("use precision fp32 on this machine"));
  INFO(pre.output);
  CHECK(pre.exit_code == 2);
  CHECK_THAT(pre.output, Catch::Contains("simclr_a2d2.json: train.precision: bf16 needs a CPU with AMX-BF16"));
  INFO(bad.output);
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("train.precision") && Catch::Contains("must be \"fp32\" or \"bf16\""));
  CHECK(!fs::exists(out / "dg_acdc"));
  fs::remove_all(out);
}
