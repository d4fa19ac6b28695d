// `clcp-bench pretrain` and chained inits, run as a user runs them, on a small embedded data set with A2D2 pairs:
// determinism, skip of a finished cell, SIGINT + resume to the same bytes, the chain pretrain → finetune, and the
// bad inputs of issue 9 with their one-line errors.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

using namespace clcp;
using namespace clcp::test;
namespace fs = std::filesystem;

namespace {

// 4 scenes × 8 frames: 28 train and 4 val pairs at val_ratio 0.15 (one val batch of 4 at the ci scale).
const fs::path& a2d2_root() {
  static const fs::path root = [] {
    const fs::path dir = fs::temp_directory_path() /
                         ("clcp_cli_a2d2_" + std::to_string(std::hash<std::string>{}(CLCP_SOURCE_DIR) % 100000));
    if (!fs::exists(dir / "SYNTH.json")) {
      const auto r = run_cli("data synth --out " + dir.string() +
                             " --seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 "
                             "--a2d2-frames 8");
      if (r.exit_code != 0) throw std::runtime_error("data synth failed: " + r.output);
    }
    return dir;
  }();
  return root;
}

fs::path fresh(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("clcp_pretrain_cli_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

std::string pretrain_args(const fs::path& out, const std::string& extra = "") {
  return "pretrain --scale ci --threads 2 --data-root " + a2d2_root().string() + " --out " + out.string() + " " + extra;
}

fs::path only_bundle(const fs::path& protocol_dir) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(protocol_dir))
    if (e.is_directory() && fs::exists(e.path() / "spec.json")) found = e.path();
  return found;
}

std::string deterministic_log(const fs::path& bundle) {
  std::ifstream in(bundle / "pretrain_log.jsonl");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("speed");
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("pretrain twice gives the same epochs and encoder, skips a finished cell and resumes after SIGINT", "[cli]") {
  const fs::path a = fresh("a"), b = fresh("b");
  const auto r1 = run_cli(pretrain_args(a));
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  const fs::path bundle_a = only_bundle(a / "clcp_a2d2");
  REQUIRE(!bundle_a.empty());
  CHECK(bundle_a.filename().string().rfind("clcp-b4-lin.s0-", 0) == 0);
  const fs::path enc = bundle_a / "export" / "image_encoder_epoch01.safetensors";
  REQUIRE(fs::exists(enc));
  const auto metrics = read_json(bundle_a / "metrics.json");
  CHECK(metrics["epochs"].size() == 2);
  CHECK(metrics["exports"].contains("clcp-b4-lin@ep1"));
  CHECK(read_json(bundle_a / "status.json")["state"] == "done");

  // The same command again: already done, not trained again.
  const auto again = run_cli(pretrain_args(a));
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.output, Catch::Contains("already done"));

  // Interrupted once the epoch-0 checkpoint exists, then resumed: the same bytes as the uninterrupted run.
  const auto stopped = run_cli_interrupt_when(pretrain_args(b), b / "clcp_a2d2" / bundle_a.filename() / "checkpoints" / "latest.json");
  INFO(stopped.output);
  CHECK(stopped.exit_code == 130);
  CHECK(read_json(b / "clcp_a2d2" / bundle_a.filename() / "status.json")["state"] == "interrupted");
  const auto resumed = run_cli(pretrain_args(b));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const fs::path bundle_b = b / "clcp_a2d2" / bundle_a.filename();
  CHECK(deterministic_log(bundle_b) == deterministic_log(bundle_a));
  CHECK(sha256_file(bundle_b / "export" / "image_encoder_epoch01.safetensors") == sha256_file(enc));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("a chained clcp init runs its pretraining cell first and finetunes the exported encoder", "[cli]") {
  const fs::path out = fresh("chain");
  const auto r = run_cli("run --protocol dg_acdc_clcp --scale ci --threads 2 --data-root " + a2d2_root().string() +
                         " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path pre = only_bundle(out / "clcp_a2d2");
  REQUIRE(!pre.empty());
  const fs::path ft = only_bundle(out / "dg_acdc_clcp");
  REQUIRE(!ft.empty());
  CHECK(ft.filename().string().rfind("clcp-b4-lin@ep1.full.s0-", 0) == 0);
  const auto spec = read_json(ft / "spec.json");
  CHECK(spec["init_sha256"] == "chained:clcp_a2d2/" + pre.filename().string() + "@ep1");
  CHECK(spec["recipe"]["pretrain"]["protocol"] == "clcp_a2d2");
  const auto prov = read_json(ft / "provenance.json");
  CHECK(prov["pretrain_bundle"].get<std::string>() == pre.string());
  CHECK(prov["weights_sha256"] == sha256_file(pre / "export" / "image_encoder_epoch01.safetensors"));
  CHECK(read_json(ft / "status.json")["state"] == "done");
  // The plan lists the pretraining cell first and the finetune cell waits for it.
  fs::path plan_file;
  for (const auto& e : fs::directory_iterator(out / "dg_acdc_clcp"))
    if (e.path().filename().string().rfind("plan-ci-", 0) == 0) plan_file = e.path();
  const auto plan = read_json(plan_file);
  REQUIRE(plan["plan"]["cells"].size() == 2);
  CHECK(plan["plan"]["cells"][0]["kind"] == "pretrain");
  CHECK(plan["plan"]["cells"][1]["after"] == nlohmann::json::array({0}));
  CHECK(fs::exists(out / "dg_acdc_clcp" / "report-ci" / "report.md"));
  fs::remove_all(out);
}

TEST_CASE("pretraining and chained inits refuse bad input in one line", "[cli]") {
  const fs::path out = fresh("bad");
  const auto lidar_init = run_cli(pretrain_args(out, "--lidar-init imagenet"));
  CHECK(lidar_init.exit_code == 2);
  CHECK_THAT(lidar_init.output, Catch::Contains("--lidar-init imagenet: a registry image encoder"));
  const auto big_batch = run_cli("pretrain --scale smoke --threads 2 --data-root " + small_synth_root().string() +
                                 " --out " + out.string());
  CHECK(big_batch.exit_code == 2);
  CHECK_THAT(big_batch.output, Catch::Contains("no A2D2 camera_lidar_semantic folder"));
  const auto beyond = run_cli("run --protocol dg_acdc_clcp --scale ci --init clcp-b4-lin@ep5 --data-root " +
                              a2d2_root().string() + " --out " + out.string());
  CHECK(beyond.exit_code == 2);
  CHECK_THAT(beyond.output, Catch::Contains("epoch 5 is beyond clcp_a2d2 scale ci's epochs 0..1"));
  const auto batch = run_cli("run --protocol dg_acdc_clcp --scale ci --init clcp-b8-lin@ep1 --data-root " +
                             a2d2_root().string() + " --out " + out.string());
  CHECK(batch.exit_code == 2);
  CHECK_THAT(batch.output, Catch::Contains("pretrains at batch 4"));
  const auto few = run_cli("pretrain --scale smoke --threads 2 --data-root " + a2d2_root().string() + " --out " +
                           out.string());
  CHECK(few.exit_code == 2);
  CHECK_THAT(few.output, Catch::Contains("A2D2 val split holds 8 pairs, fewer than one batch of 16"));
  fs::remove_all(out);
}

TEST_CASE("a NaN pretraining loss stops the cell with one line and keeps the last good epoch", "[cli]") {
  // CLCP_FAULT_NAN (suite/core/fault.hpp) makes the 3rd step's loss NaN: epoch 1 step 0 at the ci scale (2 steps per
  // epoch), after epoch 0 is checkpointed.
  const fs::path out = fresh("nan");
  const auto r = run_command("env CLCP_FAULT_NAN='pretrain:loss#3' " + std::string(CLCP_BENCH_EXE) + " " +
                             pretrain_args(out));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("epoch 1 step 0: loss is NaN/Inf; last good epoch checkpoint kept at"));
  CHECK_THAT(r.output, Catch::Contains("epoch_00.safetensors; lower the lr or check the data"));
  const fs::path bundle = only_bundle(out / "clcp_a2d2");
  REQUIRE(!bundle.empty());
  CHECK(read_json(bundle / "status.json")["state"] == "failed");
  CHECK(fs::exists(bundle / "checkpoints" / "epoch_00.safetensors"));
  CHECK_FALSE(fs::exists(bundle / "metrics.json"));
  fs::remove_all(out);
}
