// A finished bundle's final record (status.json "files") and its verification: every edit, truncation or removal
// after the bundle was finished is named, and metrics.json must agree with what its evidence recomputes to.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/content_hash.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/eval/baseline.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/integrity.hpp"

namespace fs = std::filesystem;
using namespace clcp;

namespace {

ImageEvidence image(const std::string& id, const std::string& dataset, const std::string& cond, int k) {
  ImageEvidence e;
  e.id = id;
  e.dataset = dataset;
  e.condition = cond;
  for (int c = 0; c < kNumClasses; ++c) {
    e.label_area[c] = 100 + 7 * c + k;
    e.pred_area[c] = 90 + 5 * c + 2 * k;
    e.intersect[c] = std::min(e.label_area[c], e.pred_area[c]) - (c + k) % 13;
  }
  return e;
}

// A finished bundle as `clcp-bench run` leaves it (small evidence, metrics from it, sealed by "done").
Bundle finished_bundle(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("clcp_integrity_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const Bundle b(dir);
  CellSpec s;
  s.protocol = "dg_acdc";
  s.scale = "ci";
  s.fingerprint = "0123456789abcdef";
  s.init = "random";
  s.finetune_mode = "full";
  s.recipe = {{"source", {{"dataset", "cityscapes"}, {"eval_split", "val"}}},
              {"target", {{"dataset", "acdc"}, {"split", "val"}}}};
  b.write_spec(s);
  const std::vector<ImageEvidence> src{image("a", "cityscapes", "", 0), image("b", "cityscapes", "", 1)};
  const std::vector<ImageEvidence> tgt{image("f", "acdc", "fog", 2), image("n", "acdc", "night", 3)};
  write_evidence_jsonl(b.evidence_path("cityscapes_val"), src);
  write_evidence_jsonl(b.evidence_path("acdc_val"), tgt);
  nlohmann::json m = summarise(src, tgt);
  m["source"]["best_constant_class_mIoU"] = best_constant_class_miou(src);
  m["cell_id"] = s.id();
  b.write_metrics(m);
  b.write_provenance({{"threads", 2}});
  write_atomic(b.checkpoints_dir() / "iter_12.safetensors", std::string(4096, 'w'));
  b.write_status("done", "done");
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the final record lists every file of a finished bundle with its size and XXH3-128") {
  const Bundle b = finished_bundle("record");
  const auto st = read_json(b.status_path());
  REQUIRE(st["state"] == "done");
  const auto& files = st["files"];
  for (const char* f : {"spec.json", "provenance.json", "metrics.json", "evidence/cityscapes_val.jsonl",
                        "evidence/acdc_val.jsonl", "checkpoints/iter_12.safetensors"}) {
    INFO(f);
    REQUIRE(files.contains(f));
    CHECK(files[f]["bytes"] == fs::file_size(b.dir() / f));
    CHECK(files[f]["xxh128"] == xxh128_file(b.dir() / f));
  }
  CHECK(!files.contains("status.json"));
  CHECK(verify_bundle(b.dir()).ok);
  CHECK(require_verified(b.dir(), false).empty());
  fs::remove_all(b.dir());
}

TEST_CASE("a hand-edited metrics.json is named, and so is a truncated, grown or missing file") {
  const Bundle b = finished_bundle("edited");
  std::string m = read_file(b.metrics_path());
  const auto at = m.find("\"mIoU\": 0.");
  REQUIRE(at != std::string::npos);
  m[at + 10] = m[at + 10] == '5' ? '6' : '5';  // one digit of an mIoU, same size
  write_atomic(b.metrics_path(), m);
  BundleCheck c = verify_bundle(b.dir());
  CHECK(!c.ok);
  CHECK_THAT(c.problem, Catch::StartsWith(b.metrics_path().string() + ": changed since the bundle was finished"));
  CHECK(error_of([&] { require_verified(b.dir(), false); }) ==
        c.problem + "; re-run the cell with --force, or pass --allow-unverified to use it marked 'not verified'");
  CHECK(require_verified(b.dir(), true) == c.problem);

  const std::string ev = read_file(b.evidence_path("acdc_val"));
  write_atomic(b.evidence_path("acdc_val"), ev.substr(0, ev.size() / 2));
  // (files are checked in name order: evidence/ comes before the edited metrics.json)
  c = verify_bundle(b.dir());
  CHECK(c.problem == b.evidence_path("acdc_val").string() + ": changed since the bundle was finished (" +
                         std::to_string(ev.size() / 2) + " bytes, recorded " + std::to_string(ev.size()) +
                         ": shorter, truncated or edited)");
  write_atomic(b.evidence_path("acdc_val"), ev + "\n");
  c = verify_bundle(b.dir());
  CHECK(c.problem == b.evidence_path("acdc_val").string() + ": changed since the bundle was finished (" +
                         std::to_string(ev.size() + 1) + " bytes, recorded " + std::to_string(ev.size()) + ": longer)");
  fs::remove(b.evidence_path("acdc_val"));
  c = verify_bundle(b.dir());
  CHECK(c.problem == b.evidence_path("acdc_val").string() + ": missing from the finished bundle (its integrity "
                                                              "record lists it)");
  fs::remove_all(b.dir());
}

TEST_CASE("metrics.json edited together with its record is caught by recomputing it from the evidence") {
  const Bundle b = finished_bundle("forged");
  nlohmann::json m = read_json(b.metrics_path());
  m["source"]["mIoU"] = m["source"]["mIoU"].get<double>() + 0.5;  // 54.15 instead of 4.15
  b.write_metrics(m);
  b.write_status("done", "done");  // a consistent, re-hashed record
  const BundleCheck c = verify_bundle(b.dir());
  CHECK(!c.ok);
  CHECK(c.problem == b.metrics_path().string() + ": source.mIoU disagrees with the figures recomputed from evidence/ "
                                                 "(metrics.json was edited, or its evidence was)");
  fs::remove_all(b.dir());
}

TEST_CASE("a finished bundle without a final record is not verified") {
  const Bundle b = finished_bundle("old");
  nlohmann::json st = read_json(b.status_path());
  st.erase("files");
  write_json_atomic(b.status_path(), st);
  CHECK(verify_bundle(b.dir()).problem ==
        b.status_path().string() + ": finished bundle without an integrity record (written by an older clcp-bench, "
                                   "or its status.json was replaced)");
  fs::remove_all(b.dir());
}
