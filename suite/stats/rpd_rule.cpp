#include "suite/stats/rpd_rule.hpp"

#include <fmt/format.h>

#include <cmath>

namespace clcp::stats {

RpdValidity rpd_validity(double miou_source, double best_constant) {
  RpdValidity v;
  v.miou_source = miou_source;
  v.floor = best_constant + kRpdFloorMargin;
  v.meaningful = std::isfinite(miou_source) && std::isfinite(best_constant) && miou_source > v.floor;
  if (!v.meaningful)
    v.note = std::isfinite(miou_source)
                 ? fmt::format("rPD not meaningful (source mIoU {:.2f} ≤ floor {:.2f})", 100 * miou_source,
                               100 * v.floor)
                 : "rPD not meaningful (no source mIoU)";
  return v;
}

}  // namespace clcp::stats
