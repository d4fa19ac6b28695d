// The report's paired comparisons: in each section, every (init × finetune mode) group against the reference init's
// group of the same mode — `random` when the section has it (the quickstart's question: does pretraining beat no
// pretraining?), else `imagenet` (the thesis's baseline) — through the same paired bootstrap as `clcp-bench compare`
// (suite/stats/compare.hpp), so the report's verdicts and the command's are the same numbers. The protocol's
// controls are judged on those same comparisons (suite/stats/sensitivity.hpp).
#pragma once
#include <filesystem>
#include <vector>

#include "suite/report/table_model.hpp"

namespace clcp {

/// One comparison made for a paired row: the candidate group (index into Comparison::groups) and its result.
struct PairedResult {
  size_t group = 0;
  stats::CompareResult result;
};

/// Fills c.reference and c.paired and returns the comparisons made. group_dirs[g]: the bundle folders of
/// c.groups[g] (unfinished ones are ignored by the comparison). A pair that cannot be compared (no shared seed,
/// different images) gets a row with its note instead of an error.
std::vector<PairedResult> add_paired_rows(Comparison& c, const std::vector<std::vector<std::filesystem::path>>& group_dirs,
                                          const stats::BootstrapOptions& bootstrap, bool allow_unverified);

/// Sets c.sensitivity from the declared controls (nothing when `controls` is empty): one check per control group
/// compared with the reference (a control with no such comparison is "not run"), and the scale's minimum
/// detectable effect from every comparison made.
void add_sensitivity(Comparison& c, const std::vector<PairedResult>& compared, const stats::Controls& controls);

}  // namespace clcp
