#include "suite/train/poly_lr.hpp"

#include <algorithm>
#include <cmath>

#include "suite/core/error.hpp"

namespace clcp {

double poly_lr(int64_t iter, int64_t max_iters, double base_lr, double eta_min, double power) {
  if (max_iters < 1) fail("max_iters = {}: expected ≥ 1; set schedule.max_iters to a positive count", max_iters);
  if (iter < 0) fail("iteration {}: expected ≥ 0 for the poly schedule", iter);
  const int64_t total = max_iters - 1;
  if (total == 0) return base_lr;  // a one-iteration run never decays
  const double t = static_cast<double>(std::min(iter, total));
  return eta_min + (base_lr - eta_min) * std::pow(1.0 - t / static_cast<double>(total), power);
}

}  // namespace clcp
