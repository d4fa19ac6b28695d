// `clcp-bench pretrain` and chained inits, run as a user runs them, on a small embedded data set with A2D2 pairs:
// determinism, skip of a finished cell, SIGINT + resume to the same bytes, the chain pretrain → finetune, and the
// bad inputs of issue 9 with their one-line errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "support/test_paths.hpp"
#include "support/pretrain_log.hpp"

using namespace clcp;
using namespace clcp::test;
namespace fs = std::filesystem;

namespace {

// 4 scenes × 8 frames: 28 train and 4 val pairs at val_ratio 0.15 (one val batch of 4 at the ci scale); rendered once
// per test run (shared_synth).
const fs::path& a2d2_root() {
  static const fs::path root =
      shared_synth("cli_a2d2", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 "
                               "--a2d2-frames 8");
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
// Two ranks of one thread each: the test machine's two cores, not oversubscribed.
std::string two_rank_args(const fs::path& out, const std::string& negatives) {
  return "pretrain --scale ci --threads 1 --nproc 2 --negatives " + negatives + " --data-root " + a2d2_root().string() +
         " --out " + out.string();
}

// The uninterrupted runs several tests compare against, made once per test run (shared_run): one process, and
// --nproc 2 with global negatives.
const clcp::test::SharedRun& one_process_run() {
  static const auto run = clcp::test::shared_run(
      "cli_pretrain_one", "pretrain --scale ci --threads 2 --data-root " + a2d2_root().string());
  return run;
}
const clcp::test::SharedRun& two_rank_global_run() {
  static const auto run = clcp::test::shared_run(
      "cli_pretrain_dpg", "pretrain --scale ci --threads 1 --nproc 2 --negatives global --data-root " +
                              a2d2_root().string());
  return run;
}

fs::path only_bundle(const fs::path& protocol_dir) {
  fs::path found;
  for (const auto& e : fs::directory_iterator(protocol_dir))
    if (e.is_directory() && fs::exists(e.path() / "spec.json")) found = e.path();
  return found;
}

}  // namespace

TEST_CASE("pretrain twice gives the same epochs and encoder, skips a finished cell and resumes after SIGINT", "[cli]") {
  const auto& r1 = one_process_run();
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  const fs::path a = clcp::test::private_copy(r1.out, "clcp_pretrain_cli_a"), b = fresh("b");
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
  // Resuming with another thread count would mix an epoch computed with 2 threads and one with 1: refused in one
  // line, and the checkpoint stays for the right command.
  const auto other = run_cli("pretrain --scale ci --threads 1 --data-root " + a2d2_root().string() + " --out " +
                             b.string());
  INFO(other.output);
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.output, Catch::Contains("written with --threads 2, this run uses 1; results are bit-identical only "
                                           "for the same count: resume with --threads 2, or add --force"));
  CHECK(fs::exists(b / "clcp_a2d2" / bundle_a.filename() / "checkpoints" / "latest.json"));
  const auto resumed = run_cli(pretrain_args(b));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const fs::path bundle_b = b / "clcp_a2d2" / bundle_a.filename();
  CHECK(clcp::test::deterministic_pretrain_log(bundle_b) == clcp::test::deterministic_pretrain_log(bundle_a));
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

// ---- data-parallel pretraining (issue 10 part 3): two local ranks over c10d Gloo ---------------------------------

namespace {

std::vector<double> epoch_losses(const fs::path& bundle, const std::string& key) {
  std::vector<double> out;
  std::ifstream in(bundle / "pretrain_log.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line)[key].get<double>());
  return out;
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("pretrain --nproc 2 writes one bundle from rank 0, records the negatives and stays close to one process",
          "[cli][dist]") {
  const auto& r1 = one_process_run();
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  const auto& rg = two_rank_global_run();
  INFO(rg.output);
  REQUIRE(rg.exit_code == 0);
  const fs::path one = r1.out, global = rg.out, local = fresh("dpl");
  const fs::path b1 = only_bundle(one / "clcp_a2d2"), bg = only_bundle(global / "clcp_a2d2");
  REQUIRE(!bg.empty());
  // Rank 0 alone wrote: one bundle, nothing else beside it (the cell lock folder), its path printed once.
  CHECK(entries(global) == 1);
  CHECK(entries(global / "clcp_a2d2") == 2);
  CHECK(rg.output.find(bg.string() + "\n") == rg.output.rfind(bg.string() + "\n"));
  CHECK(bg.filename() != b1.filename());  // another cell: the distributed settings are part of the id
  const auto spec = read_json(bg / "spec.json");
  CHECK(spec["fingerprint"] == read_json(b1 / "spec.json")["fingerprint"]);
  CHECK(spec["distributed"]["world_size"] == 2);
  CHECK(spec["distributed"]["negatives"] == "global");
  CHECK(spec["distributed"]["negatives_per_query"] == 3);
  CHECK(spec["distributed"]["rows_per_rank"] == 2);
  CHECK_FALSE(read_json(b1 / "spec.json").contains("distributed"));
  const auto prov = read_json(bg / "provenance.json");
  CHECK(prov["distributed"]["backend"] == "gloo");
  CHECK(prov["distributed"]["launcher"] == "clcp-bench --nproc");
  CHECK_THAT(prov["rerun"].get<std::string>(), Catch::Contains("--nproc 2 --negatives global"));
  CHECK(read_json(bg / "status.json")["state"] == "done");
  CHECK(fs::exists(bg / "export" / "image_encoder_epoch01.safetensors"));
  // Global negatives: the one-process objective, up to the trainable lidar tower's BatchNorm, whose statistics each
  // rank takes over its own 2 clouds (DDP without SyncBatchNorm).
  const auto l1 = epoch_losses(b1, "train_loss"), lg = epoch_losses(bg, "train_loss");
  REQUIRE(l1.size() == 2);
  REQUIRE(lg.size() == 2);
  const auto v1 = epoch_losses(b1, "val_loss"), vg = epoch_losses(bg, "val_loss");
  for (size_t e = 0; e < 2; ++e) {
    std::printf("[dist] ci scale, epoch %zu: train loss one process %.5f, --nproc 2 global %.5f; val loss %.5f, "
                "%.5f\n",
                e, l1[e], lg[e], v1[e], vg[e]);
    CHECK(std::abs(lg[e] - l1[e]) < 0.03);
    CHECK(std::abs(vg[e] - v1[e]) < 0.03);
  }
  CHECK(epoch_losses(bg, "negatives_per_query") == std::vector<double>{3, 3});

  // Local negatives: per-rank InfoNCE over 2 pairs, 1 negative per query, chance ln 2 for the train loss.
  const auto rl = run_cli(two_rank_args(local, "local"));
  INFO(rl.output);
  REQUIRE(rl.exit_code == 0);
  const fs::path bl = only_bundle(local / "clcp_a2d2");
  CHECK(read_json(bl / "spec.json")["distributed"]["negatives_per_query"] == 1);
  CHECK(epoch_losses(bl, "train_chance_loss")[0] == Approx(std::log(2.0)));
  CHECK(std::abs(epoch_losses(bl, "train_loss")[0] - std::log(2.0)) < 0.05);
  fs::remove_all(local);
}

TEST_CASE("pretrain --nproc 2 interrupted by SIGINT stops every rank and resumes to the uninterrupted bytes",
          "[cli][dist]") {
  const auto& ra = two_rank_global_run();
  INFO(ra.output);
  REQUIRE(ra.exit_code == 0);
  const fs::path a = ra.out, b = fresh("dpb");
  const fs::path bundle_a = only_bundle(a / "clcp_a2d2");
  const fs::path bundle_b = b / "clcp_a2d2" / bundle_a.filename();
  // SIGINT to the launcher once epoch 0 is checkpointed: forwarded to both ranks, which stop at the same step.
  const auto stopped = run_cli_interrupt_when(two_rank_args(b, "global"),
                                              bundle_b / "checkpoints" / "latest.json");
  INFO(stopped.output);
  CHECK(stopped.exit_code == 130);
  CHECK(read_json(bundle_b / "status.json")["state"] == "interrupted");
  // Resumed from epoch 0 by rank 0, its parameters and AdamW state broadcast: the same bytes as run A.
  const auto resumed = run_cli(two_rank_args(b, "global"));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(clcp::test::deterministic_pretrain_log(bundle_b) == clcp::test::deterministic_pretrain_log(bundle_a));
  CHECK(sha256_file(bundle_b / "export" / "image_encoder_epoch01.safetensors") ==
        sha256_file(bundle_a / "export" / "image_encoder_epoch01.safetensors"));
  fs::remove_all(b);
}

TEST_CASE("a rank that dies stops the other ranks, the launcher names it and rank 0 records the cell as failed",
          "[cli][dist]") {
  // CLCP_FAULT_KILL (suite/core/fault.hpp) SIGKILLs rank 1 before its second step.
  const fs::path out = fresh("dpkill");
  const auto r = run_command("env CLCP_FAULT_KILL='pretrain:rank1:step1' " + std::string(CLCP_BENCH_EXE) + " " +
                             pretrain_args(out, "--nproc 2"));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("clcp-bench: error: pretrain --nproc 2: rank 1 was killed by signal 9 (its "
                                       "error is above); the other ranks were stopped"));
  const fs::path bundle = only_bundle(out / "clcp_a2d2");
  REQUIRE(!bundle.empty());
  const std::string state = read_json(bundle / "status.json")["state"];
  CHECK((state == "failed" || state == "interrupted"));
  fs::remove_all(out);
}

TEST_CASE("data-parallel pretraining refuses bad input in one line", "[cli][dist]") {
  const fs::path out = fresh("dpbad");
  const auto three = run_cli("pretrain --scale ci --nproc 3 --out " + out.string());
  CHECK(three.exit_code == 2);
  CHECK_THAT(three.output, Catch::Contains("clcp-bench: error: pretrain: batch size 4 does not split into 3 equal "
                                           "per-rank parts; use a number of ranks that divides train.batch_size"));
  const auto negatives = run_cli("pretrain --scale ci --negatives sideways --out " + out.string());
  CHECK(negatives.exit_code == 2);
  CHECK_THAT(negatives.output, Catch::Contains("clcp-bench: error: --negatives sideways: expected local (per-rank "
                                               "InfoNCE) or global (embeddings gathered from every rank)"));
  const auto nested = run_command("env RANK=0 WORLD_SIZE=2 " + std::string(CLCP_BENCH_EXE) +
                                  " pretrain --scale ci --nproc 2 --out " + out.string());
  CHECK(nested.exit_code == 2);
  CHECK_THAT(nested.output, Catch::Contains("clcp-bench: error: --nproc 2: torchrun or srun already started this "
                                            "process as rank 0 of 2 (torchrun, master 127.0.0.1:29500); drop "
                                            "--nproc"));
  const auto half = run_command("env RANK=1 " + std::string(CLCP_BENCH_EXE) + " pretrain --scale ci --out " +
                                out.string());
  CHECK(half.exit_code == 2);
  CHECK_THAT(half.output, Catch::Contains("clcp-bench: error: RANK is set but WORLD_SIZE is not"));
  CHECK_FALSE(fs::exists(out / "clcp_a2d2"));
  fs::remove_all(out);
}
