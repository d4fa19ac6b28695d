#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/fsio.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/cell.hpp"

namespace fs = std::filesystem;
using clcp::Bundle;
using clcp::CellSpec;

namespace {
CellSpec sample_spec() {
  CellSpec c;
  c.protocol = "dg_acdc";
  c.scale = "smoke";
  c.fingerprint = "0123456789abcdef";
  c.init = "random";
  c.finetune_mode = "full";
  c.seed = 3;
  c.datasets = {{"source_train", "aa"}, {"source_eval", "bb"}, {"target", "cc"}};
  c.recipe = {{"lr", 0.01}};
  return c;
}
}  // namespace

TEST_CASE("a cell id is readable and content-addressed") {
  const CellSpec a = sample_spec();
  CHECK(a.id().rfind("random.full.s3-", 0) == 0);
  CHECK(a.id().size() == std::string("random.full.s3-").size() + 12);
  CellSpec b = a;
  CHECK(b.id() == a.id());
  b.init_sha256 = "ff";
  CHECK(b.id() != a.id());
  b = a;
  b.datasets["target"] = "cd";
  CHECK(b.id() != a.id());
  b = a;
  b.seed = 4;
  CHECK(b.id() != a.id());
}

TEST_CASE("a cell spec survives a round trip through spec.json") {
  const fs::path dir = fs::temp_directory_path() / "clcp_bundle_test";
  fs::remove_all(dir);
  const CellSpec a = sample_spec();
  const Bundle b = Bundle::for_cell(dir, a);
  CHECK(b.dir() == dir / "dg_acdc" / a.id());
  b.write_spec(a);
  const CellSpec r = b.read_spec();
  CHECK(r.id() == a.id());
  CHECK(r.recipe == a.recipe);
  fs::remove_all(dir);
}

TEST_CASE("status moves from absent to running to done and only done counts as finished") {
  const fs::path dir = fs::temp_directory_path() / "clcp_bundle_status";
  fs::remove_all(dir);
  const Bundle b(dir);
  CHECK_FALSE(b.state().has_value());
  b.write_status("running", "finetune");
  CHECK(b.state() == "running");
  CHECK_FALSE(b.done());
  b.write_status("failed", "eval", "x.png: does not decode");
  CHECK(clcp::read_json(b.status_path())["error"] == "x.png: does not decode");
  b.write_status("done", "done");
  CHECK(b.done());
  fs::remove_all(dir);
}
