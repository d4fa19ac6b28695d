// `clcp-bench compare A B`: paired bootstrap comparison of two sets of result bundles of one protocol
// (suite/stats/compare.hpp): Δ mIoU and Δ rPD with CIs, P(improvement), a verdict, and the seeds needed.
// A side is a bundle, a folder of bundles, or a group `INIT.MODE` (e.g. imagenet.full) whose seeds are looked up
// under RESULTS/<protocol>/ — the cell ids are `<init>.<mode>.s<seed>-<hash>`.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <regex>
#include <optional>
#include <set>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/report/scale_sensitivity.hpp"
#include "suite/stats/compare.hpp"
#include "suite/stats/json_number.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

namespace {

// The bundles of group `selector` (INIT.MODE) under `root`; a path that exists is returned as it is.
std::vector<fs::path> resolve_side(const std::string& selector, const fs::path& root) {
  if (fs::exists(selector)) return {selector};
  static const std::regex cell_id(R"((.+)\.s[0-9]+-[0-9a-f]{12})");
  std::vector<fs::path> out;
  std::set<std::string> groups;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !std::regex_match(name, m, cell_id)) continue;
    groups.insert(m[1].str());
    if (m[1].str() == selector) out.push_back(e.path());
  }
  if (out.empty()) {
    std::string known;
    for (const auto& g : groups) known += (known.empty() ? "" : ", ") + g;
    fail("{}: neither a bundle folder nor a group INIT.MODE with bundles in {}; groups there: {}", selector,
         root.string(), known.empty() ? "none (run `clcp-bench run` first or pass --results/--protocol)" : known);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void add_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare result bundles B against A (same protocol): paired by seed and image, Δ = B − A with bootstrap CIs, "
      "P(Δ>0), verdict better/worse/inconclusive, and seeds needed to detect an effect");
  struct Opts {
    std::string a, b, results = "results", protocol = "dg_acdc";
    int64_t replicates = 2000;
    uint64_t seed = 0;
    double effect = 1.0;
    bool json = false;
    bool allow_unverified = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("A", o->a,
                  "baseline: a result bundle, a folder of bundles, or a group INIT.MODE (e.g. imagenet.full: all its "
                  "seeds under RESULTS/PROTOCOL/)")
      ->required();
  cmd->add_option("B", o->b, "candidate: as A")->required();
  cmd->add_option("--results", o->results, "results root where groups are looked up (default results)");
  cmd->add_option("--protocol", o->protocol, "protocol whose results hold the groups (default dg_acdc)");
  cmd->add_option("--replicates", o->replicates, "bootstrap replicates (default 2000)")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "bootstrap seed (default 0); recorded in the output");
  cmd->add_option("--effect", o->effect, "effect to detect for the seeds-needed estimate, in mIoU points (default 1.0)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "print JSON instead of the table");
  cmd->add_flag("--allow-unverified", o->allow_unverified,
                "use finished bundles that fail verification (edited, truncated or missing files), listed as NOT "
                "VERIFIED, instead of stopping");
  cmd->callback([o] {
    stats::CompareOptions opts;
    opts.bootstrap.replicates = o->replicates;
    opts.bootstrap.seed = o->seed;
    opts.effect_points = o->effect;
    opts.allow_unverified = o->allow_unverified;
    const fs::path root = fs::path(o->results) / o->protocol;
    const auto r = stats::compare(resolve_side(o->a, root), resolve_side(o->b, root), opts);
    // The scale's controls (plan files of this fingerprint under ROOT), judged as the report judges them.
    std::optional<stats::Sensitivity> scale;
    std::string scale_error;
    try {
      scale = scale_sensitivity(root, r.fingerprint, opts.bootstrap, opts.allow_unverified);
    } catch (const UserError& e) {
      scale_error = e.what();
    }
    if (o->json) {
      nlohmann::json j = r.to_json();
      if (scale) {
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& c : scale->checks)
          checks.push_back({{"init", c.init}, {"role", c.role}, {"outcome", c.outcome}, {"passes", c.passes}});
        j["scale_sensitivity"] = {{"answers", scale->answers}, {"headline", scale->headline}, {"controls", checks},
                                  {"mde_source_points", stats::number_or_null(scale->mde_source_points)},
                                  {"mde_target_points", stats::number_or_null(scale->mde_target_points)}};
      }
      std::cout << j.dump(2) << "\n";
    } else {
      const std::string table = r.table();
      std::cout << table << (table.empty() || table.back() != '\n' ? "\n" : "");
      if (scale) {
        std::cout << fmt::format("scale check ({} controls): {}\n", scale->checks.size(), scale->headline);
        for (const auto& c : scale->checks) std::cout << fmt::format("  {}\n", c.line);
        std::cout << fmt::format("  {}\n", scale->mde_line);
        std::cout << fmt::format("  {}\n", scale->seeds_line);
      } else if (!scale_error.empty()) {
        std::cout << fmt::format("scale check: not available ({})\n", scale_error);
      }
    }
  });
}

}  // namespace clcp::cli
