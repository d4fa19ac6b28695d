// Pretraining methods as a user runs them (issue 16): `clcp-bench methods`, SimCLR pretraining at the ci scale on the
// embedded A2D2 frames (SIGINT + resume to the uninterrupted run's bytes), its encoder chained into dg_acdc by name and
// reported with the method's own diagnostic, and the bad inputs with their one-line errors.
#include <catch2/catch.hpp>

#include <algorithm>
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

// The A2D2 fixture of test_pretrain_cli.cpp (same tag and arguments: rendered once per test run for both).
const fs::path& mc_a2d2_root() {
  static const fs::path root =
      shared_synth("cli_a2d2", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 "
                               "--a2d2-frames 8");
  return root;
}

std::string mc_simclr_args() {
  return "pretrain --protocol simclr_a2d2 --scale ci --threads 2 --data-root " + mc_a2d2_root().string();
}

// The uninterrupted SimCLR ci run the tests compare against and chain from (shared_run: once per test run).
const SharedRun& mc_simclr_run() {
  static const auto run = shared_run("cli_simclr_one", mc_simclr_args());
  return run;
}

fs::path mc_bundle(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out / "simclr_a2d2"))
    if (e.is_directory() && fs::exists(e.path() / "spec.json")) return e.path();
  return {};
}

}  // namespace

TEST_CASE("methods lists every method with its towers, data, protocols and decisions", "[cli]") {
  const auto r = run_cli("methods --json");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto all = nlohmann::json::parse(r.output);
  std::vector<std::string> names;
  for (const auto& m : all) names.push_back(m["name"].get<std::string>());
  CHECK(names == std::vector<std::string>{"byol", "clcp", "disiam", "simclr", "simsiam", "supervised"});
  auto method = [&](const std::string& name) {
    for (const auto& m : all)
      if (m["name"] == name) return m;
    return nlohmann::json();
  };
  CHECK(method("clcp")["towers"] == nlohmann::json::array({"image", "lidar"}));
  CHECK(method("clcp")["data"] == "camera-lidar pairs");
  CHECK(method("clcp")["protocols"][0]["name"] == "clcp_a2d2");
  for (const std::string name : {"simclr", "simsiam", "byol", "disiam"}) {
    INFO(name);
    const auto m = method(name);
    CHECK(m["towers"] == nlohmann::json::array({"image"}));
    CHECK(m["data"] == "images");
    CHECK(m["protocols"][0]["name"] == name + "_a2d2");
    CHECK(m["protocols"][0]["scales"] == nlohmann::json::array({"ci", "full", "smoke"}));
    CHECK(m["protocols"][0]["decisions"].size() >= 8);
    CHECK(m["init_names"] == name + "-<variant>@ep<NN>");
  }
  CHECK(method("simsiam")["variants"] == "b<B>[-from-<method>-<variant>-ep<N>]");
  CHECK(method("supervised")["towers"] == nlohmann::json::array({"image"}));
  CHECK(method("supervised")["protocols"][0]["name"] == "supervised_a2d2");
  CHECK(method("supervised")["init_names"] == "supervised-<variant>@ep<NN>");
  CHECK(method("supervised")["variants"] == "b<B>");
}

TEST_CASE("simclr pretraining: a SIGINT after epoch 0 and the same command again give the uninterrupted run's bytes",
          "[cli]") {
  const SharedRun& a = mc_simclr_run();
  INFO(a.output);
  REQUIRE(a.exit_code == 0);
  const fs::path bundle_a = mc_bundle(a.out);
  REQUIRE(!bundle_a.empty());
  CHECK(bundle_a.filename().string().rfind("simclr-b4.s0-", 0) == 0);
  const auto first = nlohmann::json::parse(clcp::test::deterministic_pretrain_log(bundle_a).substr(0, clcp::test::deterministic_pretrain_log(bundle_a).find('\n')));
  CHECK(first["chance_loss"].get<double>() == Approx(std::log(7.0)));  // ln(2B − 1), B = 4
  CHECK(first["positive_pair_chance"].get<double>() == Approx(1.0 / 7));
  CHECK(first["z_std_uniform"].get<double>() == Approx(1 / std::sqrt(32.0)));
  const auto prov = read_json(bundle_a / "provenance.json");
  CHECK(prov["method"] == "simclr");
  CHECK_THAT(prov["rerun"].get<std::string>(), Catch::Contains("pretrain --protocol simclr_a2d2 --scale ci --seed 0"));
  CHECK(read_json(bundle_a / "metrics.json")["exports"].contains("simclr-b4@ep1"));

  const fs::path b = fs::temp_directory_path() / "methods_cli_resume";
  fs::remove_all(b);
  const fs::path bundle_b = b / "simclr_a2d2" / bundle_a.filename();
  const auto stopped = run_cli_interrupt_when(mc_simclr_args() + " --out " + b.string(),
                                              bundle_b / "checkpoints" / "latest.json");
  INFO(stopped.output);
  CHECK(stopped.exit_code == 130);
  CHECK(read_json(bundle_b / "status.json")["state"] == "interrupted");
  const auto resumed = run_cli(mc_simclr_args() + " --out " + b.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(clcp::test::deterministic_pretrain_log(bundle_b) == clcp::test::deterministic_pretrain_log(bundle_a));
  CHECK(sha256_file(bundle_b / "export" / "image_encoder_epoch01.safetensors") ==
        sha256_file(bundle_a / "export" / "image_encoder_epoch01.safetensors"));
  CHECK(read_file(bundle_b / "metrics.json") == read_file(bundle_a / "metrics.json"));
  fs::remove_all(b);
}

TEST_CASE("supervised pretraining: a SIGINT after epoch 0 and the same command again give the uninterrupted run's bytes",
          "[cli]") {
  const std::string args =
      "pretrain --protocol supervised_a2d2 --scale ci --threads 2 --data-root " + mc_a2d2_root().string();
  const SharedRun& a = shared_run("cli_supervised_one", args);
  INFO(a.output);
  REQUIRE(a.exit_code == 0);
  fs::path bundle_a;
  for (const auto& e : fs::directory_iterator(a.out / "supervised_a2d2"))
    if (e.is_directory() && fs::exists(e.path() / "spec.json")) bundle_a = e.path();
  REQUIRE(!bundle_a.empty());
  CHECK(bundle_a.filename().string().rfind("supervised-b4.s0-", 0) == 0);
  CHECK(read_json(bundle_a / "provenance.json")["method"] == "supervised");
  CHECK(read_json(bundle_a / "metrics.json")["exports"].contains("supervised-b4@ep1"));

  const fs::path b = fs::temp_directory_path() / "methods_cli_supervised_resume";
  fs::remove_all(b);
  const fs::path bundle_b = b / "supervised_a2d2" / bundle_a.filename();
  const auto stopped = run_cli_interrupt_when(args + " --out " + b.string(), bundle_b / "checkpoints" / "latest.json");
  INFO(stopped.output);
  CHECK(stopped.exit_code == 130);
  CHECK(read_json(bundle_b / "status.json")["state"] == "interrupted");
  const auto resumed = run_cli(args + " --out " + b.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(clcp::test::deterministic_pretrain_log(bundle_b) == clcp::test::deterministic_pretrain_log(bundle_a));
  CHECK(sha256_file(bundle_b / "export" / "image_encoder_epoch01.safetensors") ==
        sha256_file(bundle_a / "export" / "image_encoder_epoch01.safetensors"));
  CHECK(read_file(bundle_b / "metrics.json") == read_file(bundle_a / "metrics.json"));
  fs::remove_all(b);
}

TEST_CASE("a simclr encoder chains into dg_acdc by name and the report shows its positive-pair accuracy", "[cli]") {
  const SharedRun& a = mc_simclr_run();
  REQUIRE(a.exit_code == 0);
  const fs::path out = private_copy(a.out, "methods_cli_chain");
  const auto r = run_cli("run --protocol dg_acdc --scale ci --init simclr-b4@ep1 --threads 2 --data-root " +
                         mc_a2d2_root().string() + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("pretrain simclr-b4.s0-") && Catch::Contains("already done"));
  fs::path ft;
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (e.path().filename().string().rfind("simclr-b4@ep1.full.s0-", 0) == 0) ft = e.path();
  REQUIRE(!ft.empty());
  const auto prov = read_json(ft / "provenance.json");
  CHECK(prov["weights_sha256"] ==
        sha256_file(mc_bundle(out) / "export" / "image_encoder_epoch01.safetensors"));
  const std::string report = read_file(out / "dg_acdc" / "report-ci" / "report.md");
  CHECK_THAT(report, Catch::Contains("## Pretraining"));
  CHECK_THAT(report, Catch::Contains("| Epoch | lr | train loss | val loss | chance loss | positive-pair accuracy | its "
                                     "chance |"));
  fs::remove_all(out);
}

TEST_CASE("methods and overrides refuse bad input in one line", "[cli]") {
  const auto typo = run_cli(mc_simclr_args() + " --set method_config.temperatur=0.3");
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.output, Catch::Contains("--set method_config.temperatur: unknown key 'method_config.temperatur' "
                                          "(known there: collapse_std_floor, projector, temperature, views)"));
  const auto type = run_cli(mc_simclr_args() + " --set train.epochs=two");
  CHECK(type.exit_code == 2);
  CHECK_THAT(type.output, Catch::Contains("train.epochs"));
  const auto form = run_cli(mc_simclr_args() + " --set train.epochs");
  CHECK(form.exit_code == 2);
  CHECK_THAT(form.output, Catch::Contains("--set train.epochs: expected KEY=VALUE"));
  // run takes --set too, checked the same way
  const auto run_typo = run_cli("run --protocol dg_acdc --scale ci --set train.max_iter=3 --data-root " +
                                mc_a2d2_root().string() + " --out " + (fs::temp_directory_path() / "mc_run").string());
  CHECK(run_typo.exit_code == 2);
  CHECK_THAT(run_typo.output, Catch::Contains("--set train.max_iter: unknown key 'train.max_iter' (known there: "));
  // a protocol naming a method this build does not have
  const fs::path dir = fs::temp_directory_path() / "methods_cli_bad";
  fs::create_directories(dir);
  auto j = read_json(fs::path(CLCP_SOURCE_DIR) / "protocols" / "simclr_a2d2.json");
  j["method"] = "nosuch";
  write_json_atomic(dir / "nosuch.json", j);
  const auto unknown = run_cli("pretrain --protocol " + (dir / "nosuch.json").string() + " --scale ci --data-root " +
                               mc_a2d2_root().string() + " --out " + dir.string());
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown pretraining method 'nosuch'; known methods: byol, clcp, disiam, "
                                             "simclr, simsiam, supervised"));
  // an init name of a batch the pretraining scale does not use
  const auto batch = run_cli("run --protocol dg_acdc --scale ci --init simclr-b8@ep1 --data-root " +
                             mc_a2d2_root().string() + " --out " + dir.string());
  CHECK(batch.exit_code == 2);
  CHECK_THAT(batch.output, Catch::Contains("--init simclr-b8@ep1: names a batch-8 pretraining, but simclr_a2d2 at "
                                           "scale ci pretrains at batch 4; use simclr-b4 or another scale"));
  fs::remove_all(dir);
}

TEST_CASE("simclr pretrains on a folder of images a user names, and a lidar method there is refused", "[cli]") {
  // 16 camera frames of the A2D2 fixture copied into two folders (no A2D2 layout, no calibration)
  const fs::path dir = fs::temp_directory_path() / "methods_cli_images";
  fs::remove_all(dir);
  std::vector<fs::path> pngs;
  for (const auto& e : fs::recursive_directory_iterator(mc_a2d2_root() / "a2d2"))
    if (e.path().extension() == ".png" && e.path().string().find("/camera/") != std::string::npos) pngs.push_back(e.path());
  std::sort(pngs.begin(), pngs.end());
  REQUIRE(pngs.size() >= 16);
  for (size_t i = 0; i < 16; ++i) {
    const fs::path to = dir / "frames" / (i < 8 ? "drive1" : "drive2") / pngs[i].filename();
    fs::create_directories(to.parent_path());
    fs::copy_file(pngs[i], to);
  }
  const auto r = run_cli("pretrain --protocol simclr_a2d2 --scale ci --threads 2 --set data.dataset=images "
                         "--set data.val_ratio=0.25 --set train.epochs=1 --set 'train.keep_epochs=[]' --data-root " +
                         (dir / "frames").string() + " --out " +
                         (dir / "out").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("16 images (12 train, 4 val)"));
  const fs::path bundle = mc_bundle(dir / "out");
  const auto spec = read_json(bundle / "spec.json");
  CHECK(spec["datasets"].contains("images"));
  CHECK_FALSE(spec["datasets"].contains("a2d2"));
  CHECK(fs::exists(bundle / "export" / "image_encoder_epoch00.safetensors"));
  CHECK(read_json(bundle / "provenance.json")["set"].size() == 4);
  const auto clcp = run_cli("pretrain --scale ci --data-root " + (dir / "frames").string() + " --out " +
                            (dir / "out").string());
  CHECK(clcp.exit_code == 2);
  CHECK_THAT(clcp.output, Catch::Contains("no A2D2 camera_lidar_semantic folder"));
  fs::remove_all(dir);
}
