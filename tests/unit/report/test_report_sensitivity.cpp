// The report's sensitivity section and the rPD rule in its tables, on hand-made bundles (fixtures.hpp: every mIoU is
// the chosen quality; 2 Cityscapes and 4 ACDC images per run).
#include <catch2/catch.hpp>

#include <filesystem>

#include "fixtures.hpp"
#include "suite/report/render.hpp"

namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

clcp::ReportOptions sens_report_options(const std::string& positive, const std::string& negative) {
  clcp::ReportOptions o;
  o.title = "sensitivity";
  o.generated = "2026-01-01T00:00:00Z";
  o.bootstrap.replicates = 200;
  o.controls.positive = {positive};
  o.controls.negative = {negative};
  return o;
}

}  // namespace

TEST_CASE("controls that cannot be measured put 'cannot answer' in the report's first line and a section on top") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_sensitivity";
  fs::remove_all(root);
  std::vector<fs::path> b;
  for (int s = 0; s < 2; ++s) {
    b.push_back(fixtures::make_bundle(root, {"random", "frozen", s, 0.05, 0.12}));
    b.push_back(fixtures::make_bundle(root, {"supervised-b16@ep7", "frozen", s, 0.40, 0.30}));
    b.push_back(fixtures::make_bundle(root, {"clcp-b16-lin-shuf@ep7", "frozen", s, 0.05, 0.12}));
  }
  const auto model = clcp::build_report_model(b, sens_report_options("supervised-b16@ep7", "clcp-b16-lin-shuf@ep7"));
  REQUIRE(model.comparisons.size() == 1);
  const auto& c = model.comparisons[0];
  REQUIRE(c.sensitivity);
  // Two source images per run: fewer than the 20 a bootstrap CI needs, so no control can be judged.
  REQUIRE(c.sensitivity->checks.size() == 2);
  CHECK(c.sensitivity->checks[0].outcome == "cannot detect");
  CHECK(c.sensitivity->checks[0].role == "positive");
  CHECK(c.sensitivity->checks[1].outcome == "cannot detect");
  CHECK_FALSE(c.sensitivity->answers);
  REQUIRE_FALSE(model.notes.empty());
  CHECK(contains(model.notes.front(), "This scale cannot answer the question"));
  const std::string md = clcp::render_report(model, "md");
  CHECK(md.find("This scale cannot answer the question") < md.find("### Sensitivity"));
  CHECK(md.find("### Sensitivity") < md.find("### Table 4.1 layout"));
  CHECK(contains(md, "**FAIL** (cannot detect): positive control supervised-b16@ep7 (fb)"));
  // rPD: random's source mIoU 5 % is below its floor (best constant 1/18/18 = 0.31 % + 10 points), supervised's 40 %
  // is above it.
  CHECK(contains(md, "| random (fb) | 2/2 | 5.00 ± 0.00 [5.00, 5.00] | 12.00 ± 0.00 [12.00, 12.00] | rPD not meaningful "
                     "(source mIoU 5.00 ≤ floor 10.31)"));
  CHECK(contains(md, "| supervised-b16@ep7 (fb) | 2/2 | 40.00 ± 0.00 [40.00, 40.00] | 30.00 ± 0.00 [30.00, 30.00] | "
                     "0.75 ± 0.00 [0.75, 0.75] |"));
  const std::string html = clcp::render_report(model, "html");
  CHECK(contains(html, "<p class=\"warn\"><strong>This scale cannot answer the question"));
  const std::string tex = clcp::render_report(model, "latex");
  CHECK(contains(tex, "\\paragraph{Sensitivity.}"));
  fs::remove_all(root);
}

TEST_CASE("a declared control without runs is reported as not run, and no controls means no section") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_sensitivity2";
  fs::remove_all(root);
  const std::vector<fs::path> b{fixtures::make_bundle(root, {"random", "frozen", 0, 0.5, 0.3}),
                                fixtures::make_bundle(root, {"simclr-b16@ep7", "frozen", 0, 0.5, 0.3})};
  const auto model = clcp::build_report_model(b, sens_report_options("supervised-b16@ep7", "simclr-b16@ep7"));
  REQUIRE(model.comparisons[0].sensitivity);
  CHECK(model.comparisons[0].sensitivity->checks[0].outcome == "not run");
  CHECK(contains(model.comparisons[0].sensitivity->checks[0].line, "no finished run paired with random"));
  clcp::ReportOptions plain;
  plain.generated = "2026-01-01T00:00:00Z";
  plain.bootstrap.replicates = 50;
  const auto none = clcp::build_report_model(b, plain);
  CHECK_FALSE(none.comparisons[0].sensitivity);
  CHECK_FALSE(contains(clcp::render_report(none, "md"), "### Sensitivity"));
  fs::remove_all(root);
}
