// The exact tier on hand-made bundles: identical bundles pass, one changed count is found and named (image, class,
// TP/FP/FN, metrics, first changed train-log iteration), and another kernel path falls back to the tolerance.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/gate/exact.hpp"

namespace fs = std::filesystem;
using clcp::ImageEvidence;
namespace gate = clcp::gate;

namespace {

const nlohmann::json kPath = {{"threads", 2}, {"libtorch", "2.15.0"}, {"cpu_capability", "AVX512"},
                              {"cpu_vendor", "AuthenticAMD"}, {"isa", {"avx2", "avx512f"}}, {"mkl", "m"},
                              {"mkldnn", "d"}};

// One image with 1000 labelled pixels: road 600 (500 right), sky 400 (380 right).
ImageEvidence image(const std::string& id, const std::string& dataset, const std::string& cond) {
  ImageEvidence e;
  e.id = id;
  e.dataset = dataset;
  e.condition = cond;
  e.label_area[0] = 600;
  e.intersect[0] = 500;
  e.pred_area[0] = 520;
  e.label_area[10] = 400;
  e.intersect[10] = 380;
  e.pred_area[10] = 480;
  return e;
}

struct Cell {
  std::vector<ImageEvidence> source{image("frankfurt/a.png", "cityscapes", ""), image("frankfurt/b.png", "cityscapes", "")};
  std::vector<ImageEvidence> target{image("fog/x.png", "acdc", "fog"), image("night/y.png", "acdc", "night")};
  std::vector<double> loss{2.5, 2.25, 2.0};
  nlohmann::json kernel = kPath;
};

void write_bundle(const fs::path& dir, const Cell& c) {
  fs::remove_all(dir);
  clcp::write_json_atomic(dir / "spec.json", {{"init", "random"}, {"finetune_mode", "full"}, {"seed", 0},
                                              {"fingerprint", "fp"}, {"init_sha256", ""},
                                              {"datasets", {{"source_train", "aaaa"}}}});
  clcp::write_json_atomic(dir / "status.json", {{"state", "done"}});
  clcp::write_json_atomic(dir / "provenance.json", {{"kernel_path", c.kernel}, {"git_commit", "abc"}});
  clcp::write_json_atomic(dir / "metrics.json", clcp::summarise(c.source, c.target));
  clcp::write_evidence_jsonl(dir / "evidence/cityscapes_val.jsonl", c.source);
  clcp::write_evidence_jsonl(dir / "evidence/acdc_val.jsonl", c.target);
  std::string log;
  for (size_t i = 0; i < c.loss.size(); ++i)
    log += nlohmann::json{{"iter", 2 * (i + 1)}, {"loss", c.loss[i]}, {"lr", 0.01}, {"acc_seg", 50.0},
                          {"images_per_s", 1.0 + i}, {"time_s", 3.0 * i}}.dump() + "\n";
  clcp::write_atomic(dir / "train_log.jsonl", log);
}

struct Fixture {
  fs::path root = fs::temp_directory_path() / "clcp_gate_exact";
  fs::path base_dir = root / "baselines" / "test-ci";
  fs::path fresh = root / "fresh" / "random.full.s0-000000000000";
  gate::ExactBaseline meta;
  Fixture() {
    fs::remove_all(root);
    write_bundle(fresh, Cell{});
    meta.dir = base_dir;
    meta.name = "test-ci";
    meta.protocol = "dg_acdc";
    meta.scale = "ci";
    meta.fingerprint = "fp";
    meta.grid = {{"inits", {"random"}}, {"finetune_modes", {"full"}}, {"seeds", {0}}};
    meta.fixture = {{"synth", {{"seed", 0}}}};
    meta.tolerance.miou_points = 1.0;
    meta.tolerance.image_changed_fraction = 0.05;
    CHECK(gate::write_exact_baseline(meta, {fresh}) == std::vector<std::string>{"new baseline"});
  }
  ~Fixture() { fs::remove_all(root); }
};

std::string joined(const gate::CellDiff& d) {
  std::string s;
  for (const auto& l : d.lines) s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("a fresh run identical to the exact baseline passes with everything compared") {
  Fixture f;
  const auto b = gate::read_exact_baseline(f.base_dir);
  CHECK(b.cells == std::vector<std::string>{"random.full.s0-000000000000"});
  CHECK(b.provenance["kernel_path"] == kPath);
  // The stored train log keeps only the deterministic fields.
  CHECK(clcp::read_file(f.base_dir / b.cells[0] / "train_log.jsonl").find("time_s") == std::string::npos);
  // Another wall-clock speed in the fresh log does not matter.
  Cell c;
  write_bundle(f.fresh, c);
  const auto r = gate::compare_exact(b, {f.fresh});
  CHECK(r.kernel_difference.empty());
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].identical);
  CHECK(r.cells[0].images_compared == 4);
  CHECK(r.cells[0].log_lines_compared == 3);
  CHECK(r.passed());
}

TEST_CASE("one changed count fails the exact tier and names the image, the classes and the first changed iteration") {
  Fixture f;
  Cell c;
  c.target[1].intersect[0] = 440;  // night/y.png: 60 road pixels now predicted sky
  c.target[1].pred_area[0] = 460;
  c.target[1].pred_area[10] = 540;
  c.loss[1] = 2.3;
  write_bundle(f.fresh, c);
  const auto r = gate::compare_exact(gate::read_exact_baseline(f.base_dir), {f.fresh});
  REQUIRE(r.cells.size() == 1);
  const auto& d = r.cells[0];
  CHECK_FALSE(d.identical);
  CHECK_FALSE(r.passed());
  const std::string s = joined(d);
  INFO(s);
  CHECK(s.find("train_log.jsonl: first changed at iteration 4: loss 2.25 → 2.3 (Δ +0.05)") != std::string::npos);
  CHECK(s.find("metrics.json differs: mIoU target pooled") != std::string::npos);
  CHECK(s.find("mIoU source") == std::string::npos);  // the source images did not change
  CHECK(s.find("evidence/acdc_val.jsonl: 1 of 2 images changed (1 beyond the tolerance of 5.0% of their labelled "
               "pixels)") != std::string::npos);
  CHECK(s.find("night/y.png (night): ≥60 of 1000 labelled pixels changed class; road TP -60 FP +0 FN +60, sky TP +0 "
               "FP +60 FN +0") != std::string::npos);
  CHECK(s.find("evidence/cityscapes_val.jsonl") == std::string::npos);
}

TEST_CASE("on another kernel path the exact tier says so and applies the stated tolerance") {
  Fixture f;
  Cell c;
  c.kernel["threads"] = 4;
  c.kernel["isa"] = {"avx2"};
  c.target[1].intersect[0] = 498;  // 2 of 1000 pixels: within 5 %, night mIoU -0.31 points: within 1
  c.target[1].pred_area[0] = 518;
  c.target[1].pred_area[10] = 482;
  write_bundle(f.fresh, c);
  const auto b = gate::read_exact_baseline(f.base_dir);
  auto r = gate::compare_exact(b, {f.fresh});
  CHECK(r.kernel_difference == "threads 2 → 4, isa: baseline only [avx512f], this run only []");
  CHECK_FALSE(r.cells[0].identical);
  CHECK(r.cells[0].within_tolerance);
  CHECK(r.passed());
  c.target[1].intersect[0] = 400;  // 100 of 1000 pixels: beyond 5 %
  c.target[1].pred_area[0] = 420;
  c.target[1].pred_area[10] = 580;
  write_bundle(f.fresh, c);
  r = gate::compare_exact(b, {f.fresh});
  CHECK_FALSE(r.cells[0].within_tolerance);
  CHECK_FALSE(r.passed());
}

TEST_CASE("a fresh cell with another id is explained by what moved in its spec") {
  Fixture f;
  Cell c;
  const fs::path other = f.root / "fresh" / "random.full.s0-111111111111";
  write_bundle(other, c);
  auto spec = clcp::read_json(other / "spec.json");
  spec["datasets"]["source_train"] = "bbbb";
  clcp::write_json_atomic(other / "spec.json", spec);
  const auto r = gate::compare_exact(gate::read_exact_baseline(f.base_dir), {other});
  CHECK_FALSE(r.cells[0].found);
  CHECK_FALSE(r.passed());
  CHECK(joined(r.cells[0]).find("dataset manifest source_train aaaa → bbbb") != std::string::npos);
}

TEST_CASE("an unfinished bundle is refused with one line") {
  Fixture f;
  clcp::write_json_atomic(f.fresh / "status.json", {{"state", "running"}});
  std::string e;
  try {
    gate::compare_exact(gate::read_exact_baseline(f.base_dir), {f.fresh});
  } catch (const clcp::UserError& x) {
    e = x.what();
  }
  CHECK(e.find("the cell is 'running', not done") != std::string::npos);
}
