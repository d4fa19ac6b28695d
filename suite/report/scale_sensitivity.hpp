// The sensitivity verdict of the scale that produced a set of results, for `clcp-bench compare`: the controls of the
// plan files under RESULTS/<protocol>/ for one protocol fingerprint, judged on every bundle of that fingerprint
// exactly as the report judges them (paired.hpp, suite/stats/sensitivity.hpp), so a comparison made at a scale whose
// controls fail says so next to its verdicts.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "suite/stats/bootstrap.hpp"
#include "suite/stats/sensitivity.hpp"

namespace clcp {

/// nullopt when no plan file of `fingerprint` in `root` declares controls. Throws UserError, as the report does, for
/// a finished bundle that fails verification unless allow_unverified.
std::optional<stats::Sensitivity> scale_sensitivity(const std::filesystem::path& root, const std::string& fingerprint,
                                                    const stats::BootstrapOptions& bootstrap, bool allow_unverified);

}  // namespace clcp
