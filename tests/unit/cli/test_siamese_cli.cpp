// The Siamese family as a user runs it (issue 20): SimSiam, BYOL and DiSiam pretraining at the ci scale on the embedded
// A2D2 frames (SIGINT + resume to the uninterrupted run's bytes: determinism and resume), a deliberately collapsing
// configuration stopped by the std monitor, the chaining method (a SimSiam run from SimCLR's export, linked both
// ways), and the three encoders chained into dg_acdc by name.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "support/pretrain_log.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using namespace clcp::test;
namespace fs = std::filesystem;

namespace {

// The A2D2 fixture of test_pretrain_cli.cpp and test_methods_cli.cpp (same tag and arguments: rendered once).
const fs::path& sc_a2d2_root() {
  static const fs::path root =
      shared_synth("cli_a2d2", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 "
                               "--a2d2-frames 8");
  return root;
}

std::string sc_args(const std::string& method) {
  return "pretrain --protocol " + method + "_a2d2 --scale ci --threads 2 --data-root " + sc_a2d2_root().string();
}

const SharedRun& sc_run(const std::string& method) {
  static std::map<std::string, SharedRun> runs;
  auto it = runs.find(method);
  if (it == runs.end()) it = runs.emplace(method, shared_run("cli_" + method + "_one", sc_args(method))).first;
  return it->second;
}

fs::path sc_bundle(const fs::path& out, const std::string& method, const std::string& prefix = "") {
  for (const auto& e : fs::directory_iterator(out / (method + "_a2d2")))
    if (e.is_directory() && fs::exists(e.path() / "spec.json") &&
        (prefix.empty() || e.path().filename().string().rfind(prefix, 0) == 0))
      return e.path();
  return {};
}

}  // namespace

TEST_CASE("simsiam, byol and disiam pretraining: a SIGINT after epoch 0 and the same command again give the "
          "uninterrupted run's bytes",
          "[cli]") {
  for (const std::string method : {"simsiam", "byol", "disiam"}) {
    INFO(method);
    const SharedRun& a = sc_run(method);
    INFO(a.output);
    REQUIRE(a.exit_code == 0);
    const fs::path bundle_a = sc_bundle(a.out, method);
    REQUIRE(!bundle_a.empty());
    CHECK(bundle_a.filename().string().rfind(method + "-b4.s0-", 0) == 0);
    const std::string log = deterministic_pretrain_log(bundle_a);
    const auto first = nlohmann::json::parse(log.substr(0, log.find('\n')));
    CHECK(first["chance_loss"].get<double>() == (method == "byol" ? 4.0 : 0.0));
    CHECK(first["positive_pair_chance"].get<double>() == Approx(1.0 / 7));
    CHECK(first["z_std_uniform"].get<double>() == Approx(1 / std::sqrt(32.0)));
    CHECK(first["collapse_epochs"] == 0);
    // the online encoder learns something at once: better than chance at telling the two views apart
    CHECK(first["positive_pair_accuracy"].get<double>() > 1.0 / 7);
    CHECK(read_json(bundle_a / "provenance.json")["method"] == method);
    CHECK(read_json(bundle_a / "metrics.json")["exports"].contains(method + "-b4@ep1"));
    if (method == "byol") {  // τ_k on the cosine schedule over K = 4 steps, logged per step
      const std::string train = read_file(bundle_a / "train_log.jsonl");
      CHECK_THAT(train, Catch::Contains("\"momentum\":0.996") || Catch::Contains("\"momentum\": 0.996"));
    }
    if (method == "disiam") CHECK_THAT(read_file(bundle_a / "train_log.jsonl"), Catch::Contains("assistant_term"));

    const fs::path b = fs::temp_directory_path() / ("siamese_cli_resume_" + method);
    fs::remove_all(b);
    const fs::path bundle_b = b / (method + "_a2d2") / bundle_a.filename();
    const auto stopped = run_cli_interrupt_when(sc_args(method) + " --out " + b.string(),
                                                bundle_b / "checkpoints" / "latest.json");
    INFO(stopped.output);
    CHECK(stopped.exit_code == 130);
    const auto resumed = run_cli(sc_args(method) + " --out " + b.string());
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK(deterministic_pretrain_log(bundle_b) == deterministic_pretrain_log(bundle_a));
    CHECK(sha256_file(bundle_b / "export" / "image_encoder_epoch01.safetensors") ==
          sha256_file(bundle_a / "export" / "image_encoder_epoch01.safetensors"));
    CHECK(read_file(bundle_b / "metrics.json") == read_file(bundle_a / "metrics.json"));
    fs::remove_all(b);
  }
}

TEST_CASE("a deliberately collapsing SimSiam (lr 0.5) is stopped by the std monitor with the epoch and the figure",
          "[cli]") {
  const fs::path out = fs::temp_directory_path() / "siamese_cli_collapse";
  fs::remove_all(out);
  const auto r = run_cli(sc_args("simsiam") + " --set optimizer.lr=0.5 --set train.epochs=4 --set train.keep_epochs=[1]"
                                              " --set method_config.predictor.fixed_lr=false --out " + out.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("the projections collapsed: per-dimension std of the normalised val projections") &&
                           Catch::Contains("for 2 epoch(s) in a row") &&
                           Catch::Contains("last good epoch checkpoint kept at"));
  // one line, and the epoch it names stopped the run before its checkpoint
  const auto err = r.output.substr(r.output.find("clcp-bench: error:"));
  CHECK(err.find('\n') == err.size() - 1);
  const fs::path bundle = sc_bundle(out, "simsiam");
  const std::string log = read_file(bundle / "pretrain_log.jsonl");
  CHECK_THAT(log, Catch::Contains("\"collapse_epochs\":1"));
  fs::remove_all(out);
}

TEST_CASE("chaining: a SimSiam run from SimCLR's export loads it, names it in its variant and both bundles link",
          "[cli]") {
  const SharedRun& simclr = sc_run("simclr");
  REQUIRE(simclr.exit_code == 0);
  const fs::path out = private_copy(simclr.out, "siamese_cli_chain");
  const fs::path source = sc_bundle(out, "simclr");
  const auto r = run_cli(sc_args("simsiam") + " --chain-from simclr-b4@ep1 --out " + out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("weights: online image encoder from " +
                                       (source / "export" / "image_encoder_epoch01.safetensors").string()));
  const fs::path bundle = sc_bundle(out, "simsiam", "simsiam-b4-from-simclr-b4-ep1.s0-");
  REQUIRE(!bundle.empty());
  const auto spec = read_json(bundle / "spec.json");
  CHECK(spec["image_init"] == "simclr-b4@ep1");
  CHECK(spec["image_init_sha256"] == "chained:simclr_a2d2/" + source.filename().string() + "@ep1");
  const auto prov = read_json(bundle / "provenance.json");
  CHECK(prov["chained_from"]["sha256"] == sha256_file(source / "export" / "image_encoder_epoch01.safetensors"));
  CHECK(prov["chained_from"]["bundle"] == source.string());
  const auto back = read_json(source / "chained_into.json");
  REQUIRE(back.size() == 1);
  CHECK(back[0]["cell"] == bundle.filename().string());
  CHECK(read_json(bundle / "metrics.json")["exports"].contains("simsiam-b4-from-simclr-b4-ep1@ep1"));
  // the chained encoder differs from a random-init SimSiam run's
  const SharedRun& plain = sc_run("simsiam");
  CHECK(sha256_file(bundle / "export" / "image_encoder_epoch01.safetensors") !=
        sha256_file(sc_bundle(plain.out, "simsiam") / "export" / "image_encoder_epoch01.safetensors"));
  // a chain whose source has not run: one line naming the command that makes it
  const fs::path empty = fs::temp_directory_path() / "siamese_cli_chain_missing";
  fs::remove_all(empty);
  const auto missing = run_cli(sc_args("byol") + " --chain-from simclr-b4@ep1 --out " + empty.string());
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("--init simclr-b4@ep1: its encoder") &&
                                 Catch::Contains("does not exist yet; run `clcp-bench pretrain --protocol simclr_a2d2 "
                                                 "--scale ci --seed 0` with the same --out first"));
  fs::remove_all(empty);
  fs::remove_all(out);
}

TEST_CASE("run plans a chained Siamese pretraining after the SimCLR pretraining it starts from", "[cli]") {
  const fs::path out = fs::temp_directory_path() / "siamese_cli_chain_run";
  fs::remove_all(out);
  const auto r = run_cli("run --protocol dg_acdc --scale ci --init simsiam-b4-from-simclr-b4-ep1@ep1 --threads 2 "
                         "--data-root " + sc_a2d2_root().string() + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto simclr_at = r.output.find("pretrain simclr-b4.s0-"), simsiam_at = r.output.find("pretrain simsiam-b4-from");
  REQUIRE(simclr_at != std::string::npos);
  REQUIRE(simsiam_at != std::string::npos);
  CHECK(simclr_at < simsiam_at);
  const fs::path source = sc_bundle(out, "simclr");
  const fs::path chained = sc_bundle(out, "simsiam", "simsiam-b4-from-simclr-b4-ep1.s0-");
  REQUIRE(!chained.empty());
  CHECK(read_json(source / "chained_into.json")[0]["cell"] == chained.filename().string());
  bool finetuned = false;
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (e.path().filename().string().rfind("simsiam-b4-from-simclr-b4-ep1@ep1.full.s0-", 0) == 0)
      finetuned = read_json(e.path() / "provenance.json")["weights_sha256"] ==
                  sha256_file(chained / "export" / "image_encoder_epoch01.safetensors");
  CHECK(finetuned);
  fs::remove_all(out);
}

TEST_CASE("simsiam, byol and disiam encoders chain into dg_acdc by name and the report shows their diagnostic",
          "[cli]") {
  const fs::path out = fs::temp_directory_path() / "siamese_cli_dg";
  fs::remove_all(out);
  for (const std::string method : {"simsiam", "byol", "disiam"}) {
    REQUIRE(sc_run(method).exit_code == 0);
    fs::create_directories(out / (method + "_a2d2"));
    const fs::path src = sc_bundle(sc_run(method).out, method);
    fs::copy(src, out / (method + "_a2d2") / src.filename(), fs::copy_options::recursive);
  }
  const auto r = run_cli("run --protocol dg_acdc --scale ci --init simsiam-b4@ep1 --init byol-b4@ep1 --init "
                         "disiam-b4@ep1 --threads 2 --data-root " + sc_a2d2_root().string() + " --out " +
                         out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const std::string method : {"simsiam", "byol", "disiam"}) {
    INFO(method);
    CHECK_THAT(r.output, Catch::Contains("pretrain " + method + "-b4.s0-") && Catch::Contains("already done"));
    fs::path ft;
    for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
      if (e.path().filename().string().rfind(method + "-b4@ep1.full.s0-", 0) == 0) ft = e.path();
    REQUIRE(!ft.empty());
    CHECK(read_json(ft / "provenance.json")["weights_sha256"] ==
          sha256_file(sc_bundle(out, method) / "export" / "image_encoder_epoch01.safetensors"));
  }
  const std::string report = read_file(out / "dg_acdc" / "report-ci" / "report.md");
  CHECK_THAT(report, Catch::Contains("## Pretraining") && Catch::Contains("positive-pair accuracy"));
  fs::remove_all(out);
}

TEST_CASE("the Siamese methods refuse a bad method_config in one line", "[cli]") {
  const fs::path out = fs::temp_directory_path() / "siamese_cli_bad";
  fs::remove_all(out);
  const auto views = run_cli(sc_args("byol") + " --set method_config.views_per_frame=3 --out " + out.string());
  CHECK(views.exit_code == 2);
  CHECK_THAT(views.output, Catch::Contains("key 'method_config.views_per_frame' is 3: expected >= 2 (BYOL's loss is "
                                           "defined on 2 views: set 2); fix the value"));
  const auto kind = run_cli(sc_args("simsiam") + " --set method_config.projector.kind=mlp --out " + out.string());
  CHECK(kind.exit_code == 2);
  CHECK_THAT(kind.output, Catch::Contains("key 'method_config.projector.kind' is \"mlp\": expected \"simsiam\""));
  const auto patience = run_cli(sc_args("disiam") + " --set method_config.collapse.patience_epochs=0 --out " +
                                out.string());
  CHECK(patience.exit_code == 2);
  CHECK_THAT(patience.output, Catch::Contains("key 'method_config.collapse' needs std_floor in [0, 1)"));
  CHECK(!fs::exists(out / "byol_a2d2"));  // refused before any cell started
  fs::remove_all(out);
}

TEST_CASE("a configured k-NN probe logs its accuracy every epoch and becomes the report's diagnostic", "[cli]") {
  // a probe folder of the fixture's camera frames, one class per A2D2 scene
  const fs::path out = fs::temp_directory_path() / "siamese_cli_knn", probe = out / "probe";
  fs::remove_all(out);
  int classes = 0;
  for (const auto& scene : fs::directory_iterator(sc_a2d2_root() / "a2d2" / "camera_lidar_semantic")) {
    const fs::path cam = scene.path() / "camera" / "cam_front_center";
    if (!fs::is_directory(cam)) continue;
    fs::create_directories(probe / scene.path().filename());
    for (const auto& f : fs::directory_iterator(cam))
      if (f.path().extension() == ".png") fs::copy(f.path(), probe / scene.path().filename() / f.path().filename());
    ++classes;
  }
  REQUIRE(classes >= 2);
  const std::string knn = "'{\"root\": \"" + probe.string() + "\", \"k\": 5, \"temperature\": 0.1, \"val_ratio\": 0.25}'";
  const auto r = run_cli(sc_args("simsiam") + " --set method_config.knn_probe=" + knn + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("k-NN probe: " + probe.string() + " — " + std::to_string(classes) + " classes"));
  const fs::path bundle = sc_bundle(out, "simsiam");
  size_t lines = 0;
  std::istringstream in(deterministic_pretrain_log(bundle));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    CHECK(j["knn_chance"].get<double>() == Approx(1.0 / classes));
    CHECK(j["knn_accuracy"].get<double>() >= 0);
    CHECK(j["knn_accuracy"].get<double>() <= 1);
    CHECK(j["diagnostic"]["name"] == "k-NN accuracy");
    ++lines;
  }
  CHECK(lines == 2);
  fs::remove_all(out);
}
