#include "suite/report/scale_sensitivity.hpp"

#include "suite/core/fsio.hpp"
#include "suite/report/table_model.hpp"
#include "suite/results/bundle.hpp"

namespace clcp {
namespace fs = std::filesystem;

std::optional<stats::Sensitivity> scale_sensitivity(const fs::path& root, const std::string& fingerprint,
                                                    const stats::BootstrapOptions& bootstrap, bool allow_unverified) {
  ReportOptions ro;
  ro.allow_unverified = allow_unverified;
  ro.bootstrap = bootstrap;
  ro.generated = "-";
  for (const auto& p : find_plan_files(root)) {
    const auto plan = read_json(p);
    if (plan.value("fingerprint", "") != fingerprint) continue;
    ro.plans.push_back(p);
    use_protocol_report_settings(ro, plan);
  }
  if (ro.controls.empty()) return std::nullopt;
  std::vector<fs::path> bundles;
  for (const auto& d : find_bundles(root))
    if (read_json(Bundle(d).spec_path()).value("fingerprint", "") == fingerprint) bundles.push_back(d);
  const ReportModel model = build_report_model(bundles, ro);
  for (const auto& c : model.comparisons)
    if (c.fingerprint == fingerprint) return c.sensitivity;
  return std::nullopt;
}

}  // namespace clcp
