#include "suite/report/paired.hpp"

#include <algorithm>

#include "suite/core/error.hpp"

namespace clcp {

void add_paired_rows(Comparison& c, const std::vector<std::vector<std::filesystem::path>>& group_dirs,
                     const stats::BootstrapOptions& bootstrap, bool allow_unverified) {
  const auto has = [&](const std::string& init) {
    return std::any_of(c.groups.begin(), c.groups.end(), [&](const GroupRow& g) { return g.init == init; });
  };
  c.reference = has("random") ? "random" : has("imagenet") ? "imagenet" : "";
  if (c.reference.empty()) return;
  stats::CompareOptions opts;
  opts.bootstrap = bootstrap;
  opts.allow_unverified = allow_unverified;
  for (size_t ref = 0; ref < c.groups.size(); ++ref) {
    if (c.groups[ref].init != c.reference || c.groups[ref].runs_done == 0) continue;
    for (size_t g = 0; g < c.groups.size(); ++g) {
      if (g == ref || c.groups[g].init == c.reference || c.groups[g].finetune_mode != c.groups[ref].finetune_mode ||
          c.groups[g].runs_done == 0)
        continue;
      PairedRow row;
      row.experiment = c.groups[g].experiment;
      row.reference = c.groups[ref].experiment;
      try {
        const stats::CompareResult r = stats::compare(group_dirs[ref], group_dirs[g], opts);
        row.seeds = static_cast<int64_t>(r.seeds.size());
        row.miou_source = r.miou_source;
        row.miou_target = r.miou_target;
        row.rpd = r.rpd;
      } catch (const UserError& e) {
        row.note = e.what();
      }
      c.paired.push_back(std::move(row));
    }
  }
}

}  // namespace clcp
