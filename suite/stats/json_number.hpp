// A statistic as JSON: the number, or null when it is not finite (NaN for an undefined IoU or CI, ±Inf never
// written), as every stats file of a bundle and report stores it.
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>

namespace clcp::stats {

inline nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace clcp::stats
