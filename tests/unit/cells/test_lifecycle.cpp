// The one cell lifecycle (suite/cells/lifecycle.hpp) on a kind defined here: what it writes at each step, what it
// records when the kind's work fails or is stopped, when a finished cell is reused, and that a data-parallel rank
// other than 0 writes nothing.
#include <catch2/catch.hpp>

#include "suite/cells/lifecycle.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/signals.hpp"
#include "suite/results/integrity.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;
using namespace clcp::cells;
namespace fs = std::filesystem;

namespace {

CellRunSettings lc_settings(int threads) {
  CellRunSettings s;
  s.command = "clcp-bench toy";
  s.threads = threads;
  return s;
}

CellStart lc_start() {
  CellStart st;
  st.spec = {{"kind", "toy"}, {"seed", 3}};
  st.rerun = "clcp-bench toy --seed 3 --force";
  st.datasets = {{"toy", "abc"}};
  st.weights_sha256 = "";
  st.seed = 3;
  st.fingerprint = "f00d";
  st.extra = {{"method", "toy"}};
  st.stage = "work";
  return st;
}

}  // namespace

TEST_CASE("the cell lifecycle writes spec, provenance and status in order and reuses only a verified same-thread cell",
          "[cells]") {
  test::TempDir t;
  const fs::path dir = t.path / "toy" / "cell-1";
  {
    CellLifecycle cell(Bundle(dir), "toy", "cell-1", lc_settings(2));
    REQUIRE_FALSE(cell.claim());  // nothing there yet
    cell.start(lc_start());
    CHECK(read_json(dir / "spec.json") == nlohmann::json{{"kind", "toy"}, {"seed", 3}});
    const auto prov = read_json(dir / "provenance.json");
    CHECK(prov["command"] == "clcp-bench toy");
    CHECK(prov["rerun"] == "clcp-bench toy --seed 3 --force");
    CHECK(prov["threads"] == 2);
    CHECK(prov["method"] == "toy");
    CHECK(prov["fingerprint"] == "f00d");
    CHECK(prov["end"].is_null());
    cell.run([&] {
      CHECK(read_json(dir / "status.json")["state"] == "running");
      CHECK(read_json(dir / "status.json")["stage"] == "work");
      cell.provenance()["work"] = {{"items", 4}};
      cell.finish({{"answer", 42}});
    });
  }
  CHECK(read_json(dir / "status.json")["state"] == "done");
  CHECK(read_json(dir / "metrics.json")["answer"] == 42);
  CHECK(read_json(dir / "provenance.json")["work"]["items"] == 4);
  CHECK(read_json(dir / "provenance.json")["end"].is_string());
  CHECK(verify_bundle(dir).ok);

  // reused with the same thread count; refused with another; recomputed with --force
  CHECK(CellLifecycle(Bundle(dir), "toy", "cell-1", lc_settings(2)).claim());
  CHECK_THROWS_WITH(CellLifecycle(Bundle(dir), "toy", "cell-1", lc_settings(1)).claim(),
                    "cell cell-1: finished with --threads 2, this run uses 1; results are bit-identical only for the "
                    "same count: run with --threads 2 to reuse it, or add --force to recompute it with 1");
  auto forced = lc_settings(1);
  forced.force = true;
  CellLifecycle again(Bundle(dir), "toy", "cell-1", forced);
  CHECK_FALSE(again.claim());
  again.start(lc_start());
  CHECK_FALSE(fs::exists(dir / "metrics.json"));  // --force starts from an empty folder

  // a hand-edited finished cell is not reused
  test::TempDir u;
  const fs::path d2 = u.path / "cell-2";
  {
    CellLifecycle c(Bundle(d2), "toy", "cell-2", lc_settings(2));
    c.claim();
    c.start(lc_start());
    c.run([&] { c.finish({{"answer", 1}}); });
  }
  write_json_atomic(d2 / "metrics.json", {{"answer", 2}});
  CHECK_THROWS_WITH(CellLifecycle(Bundle(d2), "toy", "cell-2", lc_settings(2)).claim(),
                    Catch::StartsWith("cell cell-2: finished, but ") && Catch::Contains("metrics.json"));
}

TEST_CASE("the cell lifecycle records a failure or a stop with its one line, and a non-writer rank writes nothing",
          "[cells]") {
  test::TempDir t;
  const fs::path dir = t.path / "cell-f";
  {
    CellLifecycle cell(Bundle(dir), "toy", "cell-f", lc_settings(2));
    cell.claim();
    cell.start(lc_start());
    CHECK_THROWS_AS(cell.run([&] {
      cell.stage("second");
      fail("toy.json: the work failed; fix it");
    }), UserError);
  }
  auto st = read_json(dir / "status.json");
  CHECK(st["state"] == "failed");
  CHECK(st["stage"] == "second");
  CHECK(st["error"] == "toy.json: the work failed; fix it");

  {
    CellLifecycle cell(Bundle(dir), "toy", "cell-f", lc_settings(2));
    CHECK_FALSE(cell.claim());  // a failed cell is run again
    cell.start(lc_start());
    CHECK_THROWS_AS(cell.run([&] { throw Interrupted("stopped by SIGINT; run the same command again to resume", 2); }),
                    Interrupted);
  }
  st = read_json(dir / "status.json");
  CHECK(st["state"] == "interrupted");
  CHECK(st["stage"] == "work");

  // a dead owner's "running" becomes "interrupted" when the next owner claims the cell
  Bundle(dir).write_status("running", "work");
  CHECK_FALSE(CellLifecycle(Bundle(dir), "toy", "cell-f", lc_settings(2)).claim());
  CHECK(read_json(dir / "status.json")["state"] == "interrupted");
  CHECK(read_json(dir / "status.json")["error"].get<std::string>().find("without finishing") != std::string::npos);

  auto rank1 = lc_settings(2);
  rank1.writer = false;
  const fs::path none = t.path / "cell-r1";
  CellLifecycle r(Bundle(none), "toy", "cell-r1", rank1);
  CHECK_FALSE(r.claim());
  r.start(lc_start());
  r.run([&] { r.finish({{"answer", 1}}); });
  CHECK_FALSE(fs::exists(none));
}
