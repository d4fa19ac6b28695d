// The local executor: cells in dependency order in this process, stopping at the first failure.
#include <catch2/catch.hpp>

#include "suite/core/error.hpp"
#include "suite/exec/local.hpp"

using clcp::CellKind;
using clcp::Plan;

namespace {
Plan plan_of(const std::vector<std::vector<size_t>>& after) {
  Plan p;
  p.protocol_name = "dg_acdc";
  p.scale = "ci";
  for (size_t i = 0; i < after.size(); ++i) {
    clcp::PlanCell c;
    c.kind = after[i].empty() ? CellKind::pretrain : CellKind::finetune;
    c.id = "cell" + std::to_string(i);
    c.after = after[i];
    p.cells.push_back(c);
  }
  return p;
}
}  // namespace

TEST_CASE("the local executor runs a grid without dependencies in plan order") {
  std::vector<size_t> ran;
  const auto out = clcp::run_local(plan_of({{}, {}, {}}), [&](size_t i) { ran.push_back(i); });
  CHECK(ran == std::vector<size_t>{0, 1, 2});
  CHECK(out.attempted == ran);
  CHECK(out.first_error.empty());
}

TEST_CASE("the local executor runs a chained cell only after the cells it waits for") {
  // 0 and 2 wait for nothing (pretrain), 1 waits for 0, 3 for 2 and 0.
  std::vector<size_t> ran;
  clcp::run_local(plan_of({{}, {0}, {}, {0, 2}}), [&](size_t i) { ran.push_back(i); });
  CHECK(ran == std::vector<size_t>{0, 2, 1, 3});
}

TEST_CASE("the local executor stops at the first failing cell and returns its line") {
  std::vector<size_t> ran;
  const auto out = clcp::run_local(plan_of({{}, {}, {}}), [&](size_t i) {
    ran.push_back(i);
    if (i == 1) clcp::fail("cell {}: loss is NaN", i);
  });
  CHECK(ran == std::vector<size_t>{0, 1});
  CHECK(out.first_error == "cell 1: loss is NaN");
}
