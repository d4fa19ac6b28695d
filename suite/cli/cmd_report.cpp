// `clcp-bench report`: renders Markdown/HTML/LaTeX from result bundles (folders with spec.json), given directly or
// found under results/<protocol>/.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/report/render.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

std::vector<fs::path> find_bundles(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root, ec))
    if (e.is_regular_file() && e.path().filename() == "spec.json") out.push_back(e.path().parent_path());
  std::sort(out.begin(), out.end());
  return out;
}

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Render Markdown, HTML and LaTeX reports from result bundles");
  struct Opts {
    std::vector<std::string> dirs;
    std::string protocol, results = "results", out, title = "clcp-bench report";
    std::vector<std::string> formats{"md", "html", "tex"};
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("bundles", o->dirs, "result bundle folders (or folders containing bundles)");
  cmd->add_option("--protocol", o->protocol, "report every bundle under RESULTS/<protocol>/");
  cmd->add_option("--results", o->results, "results root (default results)");
  cmd->add_option("--out", o->out, "output folder (default RESULTS/<protocol>/report)");
  cmd->add_option("--format", o->formats, "formats: md, html, tex")->delimiter(',');
  cmd->add_option("--title", o->title, "report title");
  cmd->callback([o] {
    std::vector<fs::path> bundles;
    for (const auto& d : o->dirs) {
      auto found = find_bundles(d);
      if (found.empty()) fail("{}: no result bundle (spec.json) found there; pass a bundle folder or use --protocol", d);
      bundles.insert(bundles.end(), found.begin(), found.end());
    }
    if (!o->protocol.empty()) {
      auto found = find_bundles(fs::path(o->results) / o->protocol);
      if (found.empty())
        fail("{}: no result bundles; run `clcp-bench run --protocol {}` first", (fs::path(o->results) / o->protocol).string(),
             o->protocol);
      bundles.insert(bundles.end(), found.begin(), found.end());
    }
    if (bundles.empty()) fail("report: nothing to report; pass bundle folders or --protocol NAME");
    const ReportModel model = build_report_model(bundles, o->title);
    const fs::path out = o->out.empty() ? fs::path(o->results) / model.protocol / "report" : fs::path(o->out);
    for (const auto& p : write_report(model, out, o->formats)) std::cout << p.string() << "\n";
  });
}

}  // namespace clcp::cli
