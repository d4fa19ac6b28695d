// The resolved plan of a protocol run: the grid's cells, their order and ids, the plan file and its fingerprint.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/plan/plan.hpp"
#include "suite/results/cell.hpp"

namespace fs = std::filesystem;
using clcp::CellKind;
using clcp::Plan;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clcp::UserError& e) {
    return e.what();
  }
  return "";
}

Plan grid_2x2x2() {
  clcp::Protocol p = clcp::load_protocol("dg_acdc", "ci");
  p.inits = {"random", "file:w.safetensors"};
  p.finetune_modes = {"full", "frozen"};
  p.seeds = {0, 1};
  clcp::FinetuneGridInputs in;
  in.init_sha256 = {{"random", ""}, {"file:w.safetensors", std::string(64, 'a')}};
  in.datasets = {{"source_train", "aa"}, {"source_eval", "bb"}, {"target", "cc"}};
  clcp::RunSettings run;
  run.protocol = "dg_acdc";
  run.cwd = "/work/x";
  run.threads = 2;
  run.command = "clcp-bench run --protocol dg_acdc --scale ci";
  return clcp::plan_finetune_grid(p, in, run);
}

// A chain as a protocol with pretraining has it: two pretrain cells, finetune cells starting from their encoders.
Plan chain_plan() {
  Plan p = grid_2x2x2();
  p.cells.clear();
  auto cell = [](CellKind k, const std::string& id, std::vector<size_t> after) {
    clcp::PlanCell c;
    c.kind = k;
    c.id = id;
    c.label = id;
    c.after = std::move(after);
    c.spec = {{"id", id}};
    return c;
  };
  p.cells = {cell(CellKind::pretrain, "pre-a", {}), cell(CellKind::finetune, "ft-a0", {0}),
             cell(CellKind::pretrain, "pre-b", {}), cell(CellKind::finetune, "ft-b0", {2}),
             cell(CellKind::finetune, "ft-ab", {0, 2})};
  return p;
}

}  // namespace

TEST_CASE("a finetune grid lists init x mode x seed cells in that order with the ids CellSpec gives") {
  const Plan plan = grid_2x2x2();
  REQUIRE(plan.cells.size() == 8);
  const std::vector<std::string> labels{
      "random full seed 0",  "random full seed 1",  "random frozen seed 0",  "random frozen seed 1",
      "file:w.safetensors full seed 0", "file:w.safetensors full seed 1", "file:w.safetensors frozen seed 0",
      "file:w.safetensors frozen seed 1"};
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    const auto& c = plan.cells[i];
    CHECK(c.label == labels[i]);
    CHECK(c.kind == CellKind::finetune);
    CHECK(c.after.empty());
    const clcp::CellSpec spec = clcp::CellSpec::from_json(c.spec);
    CHECK(spec.id() == c.id);  // the bundle folder the cell writes
    CHECK(spec.fingerprint == plan.protocol_fingerprint);
  }
  CHECK(clcp::CellSpec::from_json(plan.cells[4].spec).init_sha256 == std::string(64, 'a'));
  CHECK(plan.cells[0].id.rfind("random.full.s0-", 0) == 0);
  CHECK(plan.waves() == std::vector<std::vector<size_t>>{{0, 1, 2, 3, 4, 5, 6, 7}});
  CHECK(plan.protocol_dir() == fs::path("results") / "dg_acdc");
  CHECK(plan.ledger_path() == fs::path("results/dg_acdc") / ("plan-ci-" + plan.protocol_fingerprint + ".json"));
}

TEST_CASE("a plan file reads back to the same plan and keeps the ledger that reports read") {
  const Plan plan = grid_2x2x2();
  const fs::path file = fs::temp_directory_path() / "clcp_plan_test" / "plan.json";
  clcp::write_plan(file, plan);
  const std::string bytes = clcp::read_file(file);
  const Plan back = clcp::read_plan(file);
  CHECK(back.fingerprint() == plan.fingerprint());
  CHECK(back.cells.size() == 8);
  CHECK(back.run.cwd == "/work/x");
  CHECK(back.run.threads == 2);
  clcp::write_plan(file, back);
  CHECK(clcp::read_file(file) == bytes);  // canonical: the same plan gives the same bytes
  const auto j = clcp::read_json(file);
  CHECK(j["fingerprint"] == plan.protocol_fingerprint);  // what `clcp-bench report` reads from plan-*.json
  CHECK(j["scale"] == "ci");
  REQUIRE(j["cells"].size() == 8);
  CHECK(j["cells"][3] == plan.cells[3].id);
  CHECK(j["plan"]["fingerprint"] == plan.fingerprint());
  CHECK(j["plan"]["cells"][3]["kind"] == "finetune");
  fs::remove_all(file.parent_path());
}

TEST_CASE("an edited plan file is refused with one line naming it") {
  const fs::path file = fs::temp_directory_path() / "clcp_plan_edit" / "plan.json";
  clcp::write_plan(file, grid_2x2x2());
  auto j = clcp::read_json(file);
  j["plan"]["cells"][1]["spec"]["seed"] = 7;
  clcp::write_json_atomic(file, j);
  const std::string e = error_of([&] { clcp::read_plan(file); });
  CHECK(e.find(file.string()) != std::string::npos);
  CHECK(e.find("does not match its content") != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
  j["plan"]["cells"][1]["kind"] = "distill";
  clcp::write_json_atomic(file, j);
  CHECK(error_of([&] { clcp::read_plan(file); }).find("cell kind 'distill' is unknown") != std::string::npos);
  clcp::write_json_atomic(file, nlohmann::json{{"cells", {"a"}}});
  CHECK(error_of([&] { clcp::read_plan(file); }).find("not a clcp-bench plan") != std::string::npos);
  fs::remove_all(file.parent_path());
}

TEST_CASE("the plan fingerprint covers the cells and how they run but not the command as typed") {
  const Plan a = grid_2x2x2();
  Plan b = a;
  b.run.command = "clcp-bench run --scale ci --protocol dg_acdc";
  CHECK(b.fingerprint() == a.fingerprint());
  b.run.threads = 4;
  CHECK(b.fingerprint() != a.fingerprint());
  b = a;
  b.cells.pop_back();
  CHECK(b.fingerprint() != a.fingerprint());
  CHECK(a.fingerprint().size() == 16);
}

TEST_CASE("waves put every cell after the cells it waits for, in plan order inside a wave") {
  const Plan p = chain_plan();
  CHECK(p.waves() == std::vector<std::vector<size_t>>{{0, 2}, {1, 3, 4}});
  CHECK(p.index_of("ft-b0") == 3);
  CHECK(error_of([&] { p.index_of("nope"); }).find("no cell 'nope'") != std::string::npos);
  // Written and read back, the kinds and dependencies survive; a dependency on a later cell is refused.
  const fs::path file = fs::temp_directory_path() / "clcp_plan_chain" / "plan.json";
  clcp::write_plan(file, p);
  const Plan back = clcp::read_plan(file);
  CHECK(back.cells[2].kind == CellKind::pretrain);
  CHECK(back.cells[4].after == std::vector<size_t>{0, 2});
  Plan bad = p;
  bad.cells[1].after = {3};
  clcp::write_plan(file, bad);
  CHECK(error_of([&] { clcp::read_plan(file); }).find("waits for cell 3, which is not an earlier cell") !=
        std::string::npos);
  fs::remove_all(file.parent_path());
}
