#include "suite/report/paired.hpp"

#include <algorithm>

#include "suite/core/error.hpp"

namespace clcp {

std::vector<PairedResult> add_paired_rows(Comparison& c, const std::vector<std::vector<std::filesystem::path>>& group_dirs,
                                          const stats::BootstrapOptions& bootstrap, bool allow_unverified) {
  std::vector<PairedResult> compared;
  const auto has = [&](const std::string& init) {
    return std::any_of(c.groups.begin(), c.groups.end(), [&](const GroupRow& g) { return g.init == init; });
  };
  c.reference = has("random") ? "random" : has("imagenet") ? "imagenet" : "";
  if (c.reference.empty()) return compared;
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
        stats::CompareResult r = stats::compare(group_dirs[ref], group_dirs[g], opts);
        row.seeds = static_cast<int64_t>(r.seeds.size());
        row.miou_source = r.miou_source;
        row.miou_target = r.miou_target;
        row.rpd = r.rpd;
        compared.push_back({g, std::move(r)});
      } catch (const UserError& e) {
        row.note = e.what();
      }
      c.paired.push_back(std::move(row));
    }
  }
  return compared;
}

void add_sensitivity(Comparison& c, const std::vector<PairedResult>& compared, const stats::Controls& controls) {
  if (controls.empty()) return;
  std::vector<stats::ControlCheck> checks;
  std::vector<const stats::CompareResult*> all;
  for (const auto& p : compared) all.push_back(&p.result);
  for (const auto& [role, inits] : {std::pair{std::string("positive"), &controls.positive},
                                    std::pair{std::string("negative"), &controls.negative}})
    for (const auto& init : *inits) {
      bool found = false;
      for (const auto& p : compared)
        if (c.groups[p.group].init == init) {
          checks.push_back(stats::check_control(c.groups[p.group].experiment, role, c.reference, p.result));
          found = true;
        }
      if (!found)
        checks.push_back(stats::missing_control(
            init, role,
            c.reference.empty() ? "no reference init (random or imagenet) in this section"
                                : fmt::format("no finished run paired with {}", c.reference)));
    }
  c.sensitivity = stats::assess_sensitivity(c.reference.empty() ? "random" : c.reference, std::move(checks), all);
}

}  // namespace clcp
