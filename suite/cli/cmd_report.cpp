// `clcp-bench report`: renders HTML, LaTeX, Markdown, CSV and JSON reports from result bundles (folders with
// spec.json), given directly or found under RESULTS/<protocol>/, with every cell of the plan files there listed.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/report/render.hpp"
#include "suite/results/bundle.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report",
      "Render reports from result bundles: tables in the thesis layouts (Table 4.1, 4.3), per condition and per class, "
      "mean ± sd over seeds with bootstrap CIs, plots, provenance links; HTML, LaTeX, Markdown, CSV, JSON");
  struct Opts {
    std::vector<std::string> dirs;
    std::string protocol, results = "results", out, title = "clcp-bench report", baseline;
    std::vector<std::string> formats{"html", "latex", "md", "csv", "json"};
    int64_t replicates = 2000;
    uint64_t bootstrap_seed = 0;
    bool allow_unverified = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("bundles", o->dirs, "result bundle folders, or folders containing bundles (and plan-*.json)");
  cmd->add_option("--protocol", o->protocol, "report every bundle and planned cell under RESULTS/<protocol>/");
  cmd->add_option("--results", o->results, "results root (default results)");
  cmd->add_option("--out", o->out, "output folder (default RESULTS/<protocol>/report)");
  cmd->add_option("--format", o->formats, "comma-separated: html, latex (alias tex), md, csv, json (default all)")
      ->delimiter(',');
  cmd->add_option("--baseline", o->baseline,
                  "published numbers next to ours with deltas: baselines/<NAME>.json, e.g. thesis-table-4.1 "
                  "(comma-separated for several, e.g. thesis-table-4.1,thesis-table-4.3)");
  cmd->add_option("--title", o->title, "report title");
  cmd->add_option("--bootstrap-replicates", o->replicates, "bootstrap replicates for the CIs (default 2000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--bootstrap-seed", o->bootstrap_seed, "bootstrap seed (default 0; recorded in the report)");
  cmd->add_flag("--allow-unverified", o->allow_unverified,
                "report finished bundles that fail verification (a file edited, truncated or missing since the bundle "
                "was finished; metrics.json disagreeing with its evidence), marked NOT VERIFIED, instead of stopping");
  cmd->callback([o] {
    for (const auto& f : o->formats) canonical_format(f);  // unknown format: one line before any work
    std::vector<fs::path> bundles;
    ReportOptions ro;
    ro.title = o->title;
    ro.baseline = o->baseline;
    ro.bootstrap.replicates = o->replicates;
    ro.bootstrap.seed = o->bootstrap_seed;
    ro.allow_unverified = o->allow_unverified;
    for (const auto& d : o->dirs) {
      auto found = find_bundles(d);
      if (found.empty()) fail("{}: no result bundle (spec.json) found there; pass a bundle folder or use --protocol", d);
      bundles.insert(bundles.end(), found.begin(), found.end());
      for (const auto& p : find_plan_files(d)) ro.plans.push_back(p);
    }
    if (!o->protocol.empty()) {
      const fs::path root = fs::path(o->results) / o->protocol;
      auto found = find_bundles(root);
      auto plans = find_plan_files(root);
      if (found.empty() && plans.empty())
        fail("{}: no result bundles; run `clcp-bench run --protocol {}` first", root.string(), o->protocol);
      bundles.insert(bundles.end(), found.begin(), found.end());
      ro.plans.insert(ro.plans.end(), plans.begin(), plans.end());
    }
    if (bundles.empty() && ro.plans.empty()) fail("report: nothing to report; pass bundle folders or --protocol NAME");
    // The protocol's own report settings (baseline, published stand-ins), as `run` used them; --baseline wins.
    for (const auto& p : ro.plans) use_protocol_report_settings(ro, read_json(p));  // a plan file is its protocol's JSON
    const ReportModel model = build_report_model(bundles, ro);
    const std::string protocol = model.comparisons.empty() ? o->protocol : model.comparisons.front().protocol;
    const fs::path out = o->out.empty() ? fs::path(o->results) / protocol / "report" : fs::path(o->out);
    if (model.comparisons.size() > 1)
      std::cerr << fmt::format("warning: the bundles come from {} protocol fingerprints; the report keeps them in "
                               "separate sections (not comparable)\n",
                               model.comparisons.size());
    for (const auto& p : write_report(model, out, o->formats)) std::cout << p.string() << "\n";
  });
}

}  // namespace clcp::cli
