#include "suite/exec/local.hpp"

#include "suite/core/error.hpp"

namespace clcp {

LocalOutcome run_local(const Plan& plan, const std::function<void(size_t index)>& run_cell) {
  LocalOutcome out;
  for (const auto& wave : plan.waves())
    for (const size_t i : wave) {
      out.attempted.push_back(i);
      try {
        run_cell(i);
      } catch (const UserError& e) {
        out.first_error = e.what();
        return out;
      }
    }
  return out;
}

}  // namespace clcp
