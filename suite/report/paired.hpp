// The report's paired comparisons: in each section, every (init × finetune mode) group against the reference init's
// group of the same mode — `random` when the section has it (the quickstart's question: does pretraining beat no
// pretraining?), else `imagenet` (the thesis's baseline) — through the same paired bootstrap as `clcp-bench compare`
// (suite/stats/compare.hpp), so the report's verdicts and the command's are the same numbers.
#pragma once
#include <filesystem>
#include <vector>

#include "suite/report/table_model.hpp"

namespace clcp {

/// Fills c.reference and c.paired. group_dirs[g]: the bundle folders of c.groups[g] (unfinished ones are ignored by
/// the comparison). A pair that cannot be compared (no shared seed, different images) gets a row with its note
/// instead of an error.
void add_paired_rows(Comparison& c, const std::vector<std::vector<std::filesystem::path>>& group_dirs,
                     const stats::BootstrapOptions& bootstrap, bool allow_unverified);

}  // namespace clcp
