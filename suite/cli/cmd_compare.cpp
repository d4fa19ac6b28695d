// `clcp-bench compare A B`: paired bootstrap comparison of two sets of result bundles of one protocol
// (suite/stats/compare.hpp): Δ mIoU and Δ rPD with CIs, P(improvement), a verdict, and the seeds needed.
// A side is a bundle, a folder of bundles, or a group `INIT.MODE` (e.g. imagenet.full) whose seeds are looked up
// under RESULTS/<protocol>/ — the cell ids are `<init>.<mode>.s<seed>-<hash>`.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/stats/compare.hpp"

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
    if (o->json)
      std::cout << r.to_json().dump(2) << "\n";
    else {
      const std::string table = r.table();
      std::cout << table << (table.empty() || table.back() != '\n' ? "\n" : "");
    }
  });
}

}  // namespace clcp::cli
