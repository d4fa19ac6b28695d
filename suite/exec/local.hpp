// The local executor: runs a plan's cells one after another in this process (DESIGN.md "an executor knows cells and
// commands, never models or data"). What running a cell means is the caller's (the CLI's) callback.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "suite/plan/plan.hpp"

namespace clcp {

struct LocalOutcome {
  std::vector<size_t> attempted;  ///< cells whose callback was called, in the order it was called
  std::string first_error;        ///< the UserError line of the cell that stopped the run; "" when every cell ran
};

/// Calls run_cell(i) for every cell, wave by wave (Plan::waves(): a cell after the cells it waits for), plan order
/// inside a wave — for a grid without dependencies that is plan order. The first cell that throws UserError stops the
/// run: cells already finished stay finished, later cells are not started, and its message is returned (not thrown),
/// so the caller can still write the report. Other exceptions propagate.
LocalOutcome run_local(const Plan& plan, const std::function<void(size_t index)>& run_cell);

}  // namespace clcp
