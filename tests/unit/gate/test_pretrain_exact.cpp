// The exact tier for a pretraining cell on hand-made bundles: identical bundles pass; a changed epoch value is named
// with its epoch, field and amount (a recall in val queries), with the first changed train-log step; a changed
// encoder names the tensors that moved; another kernel path falls back to the stated tolerance.
#include <catch2/catch.hpp>

#include <filesystem>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/gate/pretrain_exact.hpp"

namespace fs = std::filesystem;
namespace gate = clcp::gate;
using nlohmann::json;

namespace {

const json kPretrainPath = {{"threads", 2}, {"libtorch", "2.15.0"}, {"cpu_capability", "AVX512"}, {"cpu_vendor", "AuthenticAMD"},
                    {"isa", {"avx2", "avx512f"}}, {"mkl", "m"}, {"mkldnn", "d"}};

struct Run {
  std::vector<double> val_loss{1.40, 1.38};
  std::vector<double> recall{0.25, 0.5};  // image→lidar R@1 over a gallery of 4
  std::vector<double> step_loss{1.39, 1.385, 1.38, 1.375};
  float weight = 1.0F;  // every value of the "head.weight" tensor of the exported encoder
  json kernel = kPretrainPath;
};

void write_pretrain_bundle(const fs::path& dir, const Run& r) {
  fs::remove_all(dir);
  clcp::write_json_atomic(dir / "spec.json", {{"kind", "pretrain"}, {"variant", "b4-lin"}, {"seed", 0},
                                              {"fingerprint", "fp"}, {"datasets", {{"a2d2", "aaaa"}}}});
  clcp::write_json_atomic(dir / "status.json", {{"state", "done"}});
  clcp::write_json_atomic(dir / "provenance.json", {{"kernel_path", r.kernel}, {"git_commit", "abc"}});
  std::string epochs, steps;
  json records = json::array();
  for (int e = 0; e < 2; ++e) {
    const json rec = {{"epoch", e}, {"lr", 0.001}, {"steps", 2 * (e + 1)}, {"val_loss", r.val_loss[e]},
                      {"train_loss", 1.39}, {"grad_norm", {{"image", 0.5}, {"lidar", 0.25}}},
                      {"retrieval", {{"gallery", 4}, {"image_to_lidar", {{"R@1", r.recall[e]}, {"mean_rank", 2.0}}}}}};
    records.push_back(rec);
    json with_speed = rec;
    with_speed["speed"] = {{"epoch_s", 10.0 + e}};  // wall time: never compared
    epochs += with_speed.dump() + "\n";
    for (int s = 0; s < 2; ++s)
      steps += json{{"epoch", e}, {"step", 2 * e + s + 1}, {"loss", r.step_loss[2 * e + s]}, {"lr", 0.001},
                    {"temperature", 0.07}, {"tau", 1.07}, {"time_s", 3.0 * s}}.dump() + "\n";
  }
  clcp::write_atomic(dir / "pretrain_log.jsonl", epochs);
  clcp::write_atomic(dir / "train_log.jsonl", steps);
  clcp::write_json_atomic(dir / "metrics.json", {{"kind", "pretrain"}, {"epochs", records}});
  clcp::save_safetensors(dir / "export/image_encoder_epoch01.safetensors",
                         {{"head.weight", torch::full({4, 3}, r.weight)}, {"head.bias", torch::zeros({4})}},
                         {{"epoch", "1"}});
}

struct PretrainFixture {
  fs::path root = fs::temp_directory_path() / "clcp_gate_pretrain_exact";
  fs::path base_dir = root / "baselines" / "pre-ci";
  fs::path fresh = root / "fresh" / "clcp-b4-lin.s0-000000000000";
  gate::ExactBaseline meta;
  PretrainFixture() {
    fs::remove_all(root);
    write_pretrain_bundle(fresh, Run{});
    meta.dir = base_dir;
    meta.kind = "pretrain";
    meta.name = "pre-ci";
    meta.protocol = "clcp_a2d2";
    meta.scale = "ci";
    meta.fingerprint = "fp";
    meta.grid = {{"seeds", {0}}};
    meta.fixture = {{"synth", {{"seed", 0}}}};
    meta.pretrain_tolerance.relative = 1e-3;
    meta.pretrain_tolerance.retrieval_queries = 1;
    CHECK(gate::write_pretrain_baseline(meta, {fresh}) == std::vector<std::string>{"new baseline"});
  }
  ~PretrainFixture() { fs::remove_all(root); }
};

std::string pretrain_joined(const gate::CellDiff& d) {
  std::string s;
  for (const auto& l : d.lines) s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("a pretraining run identical to its baseline passes with epochs, steps and the encoder compared") {
  PretrainFixture f;
  const auto b = gate::read_exact_baseline(f.base_dir);
  CHECK(b.kind == "pretrain");
  CHECK(b.pretrain_tolerance.relative == 1e-3);
  const fs::path cell = f.base_dir / b.cells.at(0);
  // Stored: the logs without wall times, the encoder as its hash and per-tensor record (not its bytes).
  CHECK(clcp::read_file(cell / "pretrain_log.jsonl").find("speed") == std::string::npos);
  CHECK(clcp::read_file(cell / "train_log.jsonl").find("time_s") == std::string::npos);
  CHECK_FALSE(fs::exists(cell / "export"));
  const json enc = clcp::read_json(cell / "encoders.json");
  CHECK(enc["export/image_encoder_epoch01.safetensors"]["tensors"]["head.weight"]["norm"].get<double>() ==
        Catch::Detail::Approx(std::sqrt(12.0)));
  CHECK(enc["export/image_encoder_epoch01.safetensors"]["tensors"]["head.weight"]["shape"] == json::array({4, 3}));
  const auto r = gate::compare_pretrain_exact(b, {f.fresh});
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].identical);
  CHECK(r.cells[0].epochs_compared == 2);
  CHECK(r.cells[0].log_lines_compared == 4);
  CHECK(r.cells[0].encoders_compared == 1);
  CHECK(r.passed());
}

TEST_CASE("a changed pretraining value fails and names the epoch, the field, the amount and the first changed step") {
  PretrainFixture f;
  Run run;
  run.val_loss[1] = 1.39;
  run.recall[1] = 0.75;
  run.step_loss[2] = 1.3805;
  run.weight = 1.5F;
  write_pretrain_bundle(f.fresh, run);
  const auto r = gate::compare_pretrain_exact(gate::read_exact_baseline(f.base_dir), {f.fresh});
  const auto& d = r.cells.at(0);
  CHECK_FALSE(d.identical);
  CHECK_FALSE(r.passed());
  const std::string s = pretrain_joined(d);
  INFO(s);
  // one query of four is within the 1-query retrieval tolerance; the val loss moved 0.7 %, beyond 1e-3
  CHECK(s.find("pretrain_log.jsonl epoch 1: 2 field(s) changed (1 beyond the tolerance):") != std::string::npos);
  CHECK(s.find("retrieval.image_to_lidar.R@1 0.5 → 0.75 (+1 of 4 queries)") != std::string::npos);
  CHECK(s.find("val_loss 1.38 → 1.39 (Δ +0.01, 0.0072 relative)") != std::string::npos);
  CHECK(s.find("pretrain_log.jsonl epoch 0") == std::string::npos);  // epoch 0 did not change
  CHECK(s.find("train_log.jsonl: first changed at epoch 1 step 3: loss 1.38 → 1.3805") != std::string::npos);
  CHECK(s.find("export/image_encoder_epoch01.safetensors: sha256 ") != std::string::npos);
  CHECK(s.find("1 of 2 tensors changed value (1 beyond the tolerance)") != std::string::npos);
  CHECK(s.find("head.weight ‖w‖ 3.46410162 → 5.19615242 (0.5 relative)") != std::string::npos);
}

TEST_CASE("on another kernel path the pretraining gate applies the stated relative and retrieval tolerance") {
  PretrainFixture f;
  Run run;
  run.kernel["threads"] = 1;
  run.val_loss[1] = 1.3801;   // 7e-5 relative
  run.recall[1] = 0.75;       // one query of four
  run.step_loss[3] = 1.37505;
  run.weight = 1.0001F;       // 1e-4 relative
  write_pretrain_bundle(f.fresh, run);
  const auto b = gate::read_exact_baseline(f.base_dir);
  auto r = gate::compare_pretrain_exact(b, {f.fresh});
  CHECK(r.kernel_difference == "threads 2 → 1");
  CHECK_FALSE(r.cells[0].identical);
  CHECK(r.cells[0].within_tolerance);
  CHECK(r.passed());
  run.recall[1] = 1.0;  // two queries: beyond
  write_pretrain_bundle(f.fresh, run);
  r = gate::compare_pretrain_exact(b, {f.fresh});
  CHECK_FALSE(r.cells[0].within_tolerance);
  run.recall[1] = 0.75;
  run.weight = 1.01F;  // 1 % on a tensor norm: beyond 1e-3
  write_pretrain_bundle(f.fresh, run);
  r = gate::compare_pretrain_exact(b, {f.fresh});
  CHECK_FALSE(r.cells[0].within_tolerance);
  CHECK_FALSE(r.passed());
}

TEST_CASE("a pretraining cell with another id is explained and an unfinished one is refused with one line") {
  PretrainFixture f;
  const fs::path other = f.root / "fresh" / "clcp-b4-lin.s0-111111111111";
  write_pretrain_bundle(other, Run{});
  auto spec = clcp::read_json(other / "spec.json");
  spec["datasets"]["a2d2"] = "bbbb";
  clcp::write_json_atomic(other / "spec.json", spec);
  const auto r = gate::compare_pretrain_exact(gate::read_exact_baseline(f.base_dir), {other});
  CHECK_FALSE(r.cells[0].found);
  CHECK(pretrain_joined(r.cells[0]).find("A2D2 manifest aaaa → bbbb") != std::string::npos);

  clcp::write_json_atomic(f.fresh / "status.json", {{"state", "interrupted"}});
  std::string e;
  try {
    gate::compare_pretrain_exact(gate::read_exact_baseline(f.base_dir), {f.fresh});
  } catch (const clcp::UserError& x) {
    e = x.what();
  }
  CHECK(e.find("the cell is 'interrupted', not done") != std::string::npos);
}
