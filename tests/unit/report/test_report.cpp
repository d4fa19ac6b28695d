#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "fixtures.hpp"
#include "suite/core/fsio.hpp"
#include "suite/report/long_format.hpp"
#include "suite/report/render.hpp"
#include "suite/report/report_figures.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

clcp::ReportOptions demo_options(const fixtures::Demo& d) { return fixtures::demo_options(d, "golden"); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the demo report matches the golden files in every format") {
  // One fixed folder: the links to provenance.json are relative to the report folder, so the output is the same on
  // every machine. CLCP_UPDATE_GOLDEN=1 rewrites the golden files (check the diff).
  const fs::path root = fs::temp_directory_path() / "clcp_report_golden";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  clcp::RenderOptions ro;
  ro.out_dir = root / "report";
  ro.plots = false;  // the SVGs depend on the gnuplot version; the [visual] tier looks at them
  for (const std::string f : {"md", "latex", "csv", "json", "html"}) {
    const std::string text = clcp::render_report(model, f, ro);
    const fs::path golden = fs::path(CLCP_SOURCE_DIR) / "tests/golden" / ("demo_" + clcp::report_file_name(f));
    if (std::getenv("CLCP_UPDATE_GOLDEN")) clcp::write_atomic(golden, text);
    INFO("format " << f << " differs from " << golden.string());
    CHECK(text == clcp::read_file(golden));
  }
  fs::remove_all(root);
}

TEST_CASE("Table 4.1 rows are mean ± sd over the finished seeds with n, in percent, with the published deltas") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_rows";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  REQUIRE(model.comparisons.size() == 1);
  const auto& c = model.comparisons[0];
  REQUIRE(c.groups.size() == 4);
  // Groups sorted by init name, full before frozen.
  CHECK(c.groups[0].experiment == "clcp-b256-mlp-fb@ep35");
  CHECK(c.groups[1].experiment == "clcp@ep19");
  CHECK(c.groups[2].experiment == "imagenet");
  CHECK(c.groups[3].experiment == "imagenet (fb)");
  const auto& full = c.groups[2];
  // Cityscapes 60, 61, 62 → 61 ± 1; ACDC pooled 30, 31, 32 → 31 ± 1; rPD (0.5 + 31/61 + 32/62) / 3.
  CHECK(full.miou_source.mean == Approx(61.0));
  CHECK(full.miou_source.sd == Approx(1.0));
  CHECK(full.miou_source.n == 3);
  CHECK(full.miou_target.mean == Approx(31.0));
  CHECK(full.rpd.mean == Approx((0.5 + 31.0 / 61 + 32.0 / 62) / 3));
  CHECK(full.miou_conditions.at("night").mean == Approx(21.0));  // 31 − 10
  CHECK(full.miou_source.lo >= 60.0 - 1e-9);  // a CI of the mean lies within the seeds' range
  CHECK(full.miou_source.hi <= 62.0 + 1e-9);
  REQUIRE(full.baseline);
  CHECK(full.baseline->experiment == "timm-ViT-S");
  const auto& frozen = c.groups[3];
  CHECK(frozen.runs_done == 2);
  CHECK(frozen.runs.size() == 4);  // 2 done, 1 failed, 1 planned but never run
  CHECK(frozen.miou_target.sd == Approx(std::sqrt(2.0)));  // 35, 37
  CHECK(frozen.baseline->experiment == "timm-ViT-S (fb)");

  const std::string md = clcp::render_report(model, "md", {false, root / "report"});
  CHECK(has(md, "| imagenet | 3/3 | 61.00 ± 1.00 "));
  CHECK(has(md, "| timm-ViT-S | 68.01 | 37.93 | 0.56 | -7.01 | -6.93 | -0.05 |"));
  CHECK(has(md, "| imagenet (fb) | 2/4 | 50.00 ± 0.00 "));
  const std::string tex = clcp::render_report(model, "tex", {false, root / "report"});
  CHECK(has(tex, "imagenet\\footnotemark[3] & 3/3 & 61.00 $\\pm$ 1.00"));
  CHECK(has(tex, "\\toprule"));
  CHECK(has(tex, "\\documentclass"));
  fs::remove_all(root);
}

TEST_CASE("failed and never-run cells are listed with their error line, not dropped") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_failed";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  const std::string md = clcp::render_report(model, "md", {false, root / "report"});
  CHECK(has(md, "| imagenet (fb) | 2 | failed: cityscapes/leftImg8bit/train/x.png: label missing;"));
  CHECK(has(md, "| imagenet (fb) | 3 | not run: planned but no result bundle"));
  const std::string html = clcp::render_report(model, "html", {false, root / "report"});
  CHECK(has(html, "<tr class=\"failed\">"));
  // Provenance links are relative to the report folder.
  CHECK(has(html, "href=\"../dg_acdc/imagenet.full.s0-"));
  fs::remove_all(root);
}

TEST_CASE("CLCP rows are laid out as Table 4.3 and matched to the published row of their label") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_clcp";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  const auto& g = model.comparisons[0].groups[0];
  REQUIRE(g.clcp);
  CHECK(g.clcp->label() == "Ep35 (MLP, fb)");
  REQUIRE(g.baseline);
  CHECK(g.baseline->table == "4.3");
  CHECK(g.baseline->miou_cityscapes == Approx(59.09));
  const std::string md = clcp::render_report(model, "md", {false, ""});
  CHECK(has(md, "| Ep35 (MLP, fb) | 35 | MLP | yes | no | full | 1/1 | 52.00 "));
  CHECK(has(md, "| Ep19 | 19 | – | no | no | full | 1/1 | 55.00 "));
  // Without CLCP cells the table is omitted with a note.
  const auto plain = clcp::build_report_model({d.bundles[0]}, "t");
  CHECK(has(clcp::render_report(plain, "md", {false, ""}), "Omitted: no CLCP cells"));
  fs::remove_all(root);
}

TEST_CASE("a protocol's published_rows put a reduced-scale cell beside the row it stands for, with a note") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_stand_in";
  const auto d = fixtures::make_demo(root);
  auto o = demo_options(d);
  o.baseline.clear();
  // What a plan file of dg_acdc_clcp --scale smoke carries (Protocol::to_json): the baseline and the stand-ins.
  clcp::use_protocol_report_settings(
      o, {{"report", {{"baseline", "thesis-table-4.3"}, {"published_rows", {{"clcp@ep19", "Ep67 (MLP, aug)"}}}}}});
  CHECK(o.baseline == "thesis-table-4.3");
  const auto model = clcp::build_report_model(d.bundles, o);
  const auto& groups = model.comparisons[0].groups;
  const auto g = std::find_if(groups.begin(), groups.end(), [](const auto& x) { return x.init == "clcp@ep19"; });
  REQUIRE(g != groups.end());
  REQUIRE(g->baseline);  // by its label alone ("Ep19") no published row would match
  CHECK(g->baseline->experiment == "Ep67 (MLP, aug)");
  CHECK(g->baseline->miou_cityscapes == Approx(57.11));
  bool noted = false;
  for (const auto& n : model.notes) noted |= has(n, "stand-ins") && has(n, "clcp@ep19 beside Ep67 (MLP, aug)");
  CHECK(noted);
  // The label-matched CLCP row is unchanged; --baseline given on the command line wins over the protocol's.
  const auto other =
      std::find_if(groups.begin(), groups.end(), [](const auto& x) { return x.init == "clcp-b256-mlp-fb@ep35"; });
  REQUIRE(other != groups.end());
  REQUIRE(other->baseline);
  CHECK(other->baseline->experiment == "Ep35 (MLP, fb)");
  auto cli = demo_options(d);
  clcp::use_protocol_report_settings(cli, {{"report", {{"baseline", "thesis-table-4.3"}}}});
  CHECK(cli.baseline == "thesis-table-4.1,thesis-table-4.3");
  // A protocol without the key changes nothing.
  auto none = demo_options(d);
  clcp::use_protocol_report_settings(none, {{"name", "dg_acdc"}});
  CHECK(none.published_rows.empty());
  fs::remove_all(root);
}

TEST_CASE("CLCP settings are read from init names as the thesis labels them") {
  CHECK_FALSE(clcp::parse_clcp_init("imagenet"));
  CHECK_FALSE(clcp::parse_clcp_init("clcp-b16-lin-shuf@ep7"));  // the negative control, not a checkpoint row
  CHECK_FALSE(clcp::parse_clcp_init("file:/w/vit_s16.safetensors"));
  CHECK(clcp::parse_clcp_init("clcp@ep19")->epoch == 19);
  CHECK(clcp::parse_clcp_init("clcp@ep19")->label() == "Ep19");
  CHECK(clcp::parse_clcp_init("clcp-b256-lin-fb@ep19")->label() == "Ep19 (Lin, fb)");
  CHECK(clcp::parse_clcp_init("CLCP_mlp_aug_epoch67")->label() == "Ep67 (MLP, aug)");
  CHECK(clcp::parse_clcp_init("file:/w/clcp-opt-b256-mlp-ep67.safetensors")->batch == 256);
  CHECK(clcp::parse_clcp_init("file:/w/clcp-opt-b256-mlp-ep67.safetensors")->label() == "Ep67 (MLP)");
  // Metadata (e.g. from a weights registry) overrides the name.
  const auto m = clcp::parse_clcp_init("clcp@ep19", {{"head", "MLP"}, {"augment", true}});
  CHECK(m->label() == "Ep19 (MLP, aug)");
  CHECK(clcp::parse_clcp_init("weights", {{"clcp_epoch", 35}})->label() == "Ep35");
  CHECK(clcp::init_display_name("file:/a/b/clcp@ep19.safetensors") == "clcp@ep19");
}

TEST_CASE("bundles with different fingerprints get separate sections and a warning, never one table") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_mixed";
  fs::remove_all(root);
  const auto a = fixtures::make_bundle(root, {"random", "full", 0, 0.5, 0.25, "aaaaaaaaaaaaaaaa"});
  const auto b = fixtures::make_bundle(root, {"random", "frozen", 0, 0.4, 0.2, "bbbbbbbbbbbbbbbb"});
  const auto model = clcp::build_report_model({a, b}, "t");
  REQUIRE(model.comparisons.size() == 2);
  CHECK(model.comparisons[0].groups.size() == 1);
  CHECK(model.comparisons[1].groups.size() == 1);
  const std::string md = clcp::render_report(model, "md", {false, ""});
  CHECK(has(md, "not comparable"));
  CHECK(has(md, "## Section 1: protocol `dg_acdc`, scale `ci`, fingerprint `aaaaaaaaaaaaaaaa`"));
  CHECK(has(md, "## Section 2: protocol `dg_acdc`, scale `ci`, fingerprint `bbbbbbbbbbbbbbbb`"));
  // Section 1's Table 4.1 holds only "random", section 2's only "random (fb)".
  const auto s2 = md.find("## Section 2");
  CHECK(md.find("| random (fb) |") > s2);
  CHECK(md.rfind("| random | 1/1 |") < s2);
  CHECK(has(clcp::render_report(model, "tex", {false, ""}), "WARNING"));
  CHECK(has(clcp::render_report(model, "html", {false, ""}), "class=\"warn\""));
  fs::remove_all(root);
}

TEST_CASE("the long CSV and JSON have one row per group or run and metric, with empty values for failed runs") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_long";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  const auto rows = clcp::long_rows(model);
  // Per group: 3 headline + 4 conditions + 2×19 classes = 45 rows. Per done run also 45; other runs 3.
  // 4 groups, 7 done runs, 2 not done: 4·45 + 7·45 + 2·3 = 501.
  CHECK(rows.size() == 501);
  const std::string csv = clcp::long_csv(model);
  CHECK(csv.rfind("fingerprint,protocol,scale,experiment,init,finetune_mode,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 502);
  CHECK(has(csv, "fp00000000000000,dg_acdc,ci,imagenet,imagenet,full,,,,,group,,,,cityscapes_val,,,mIoU,percent,3,61.0,1.0,"));
  const json j = json::parse(clcp::long_json(model));
  REQUIRE(j.is_array());
  CHECK(j.size() == 501);
  bool failed_seen = false;
  for (const auto& r : j)
    if (r["state"] == "failed") {
      failed_seen = true;
      CHECK(r["value"].is_null());
      CHECK(r["error"].get<std::string>().rfind("cityscapes/leftImg8bit", 0) == 0);
    }
  CHECK(failed_seen);
  fs::remove_all(root);
}

TEST_CASE("a class that is NaN in the metrics shows as a dash, not as zero") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_nan";
  fs::remove_all(root);
  const auto model = clcp::build_report_model({fixtures::make_bundle(root, {"random", "full", 0, 0.5, 0.25})}, "t");
  CHECK(has(clcp::render_report(model, "md", {false, ""}), "| train | – |"));
  fs::remove_all(root);
}

TEST_CASE("LaTeX special characters in names are escaped") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_tex";
  fs::remove_all(root);
  const auto model =
      clcp::build_report_model({fixtures::make_bundle(root, {"my_init_50%", "full", 0, 0.5, 0.25})}, "t");
  CHECK(has(clcp::render_report(model, "tex", {false, ""}), "my\\_init\\_50\\%"));
  fs::remove_all(root);
}

TEST_CASE("unknown formats are refused with one line and tex is an alias of latex") {
  CHECK(clcp::canonical_format("tex") == "latex");
  CHECK(clcp::report_file_name("latex") == "report.tex");
  CHECK_THROWS_WITH(clcp::canonical_format("pdf"), Catch::Contains("use html, latex (or tex), md, csv, json"));
}

TEST_CASE("the HTML report is one self-contained file: inline SVG plots, inline sort script, nothing fetched") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_offline";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  const std::string html = clcp::render_report(model, "html", {true, root / "report"});
  // Every figure of the first comparison is drawn inline (gnuplot SVG), none is a separate file.
  const auto figures = clcp::comparison_figures(model, 0);
  size_t drawn = 0;
  for (const auto& f : figures) drawn += f.omitted.empty();
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  CHECK(drawn >= 6);  // scatter, epochs, loss, lr, conditions, two heat-maps
  CHECK(svgs == drawn);
  CHECK(has(html, "<script>"));
  CHECK(has(html, "table.sortable"));
  // Offline: no URL, no external stylesheet, script or image (links go to provenance.json files next to the report).
  CHECK_FALSE(has(html, "http://"));
  CHECK_FALSE(has(html, "https://"));
  CHECK_FALSE(has(html, "<link"));
  CHECK_FALSE(has(html, "<img"));
  CHECK_FALSE(has(html, "src="));
  fs::remove_all(root);
}

TEST_CASE("the report's paired rows are clcp-bench compare's numbers against the reference init of the same mode") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_paired";
  const auto d = fixtures::make_demo(root);
  const auto model = clcp::build_report_model(d.bundles, demo_options(d));
  REQUIRE(model.comparisons.size() >= 1);
  const clcp::Comparison& c = model.comparisons[0];
  CHECK(c.reference == "imagenet");  // no random init in the demo: the thesis's baseline
  const auto row = std::find_if(c.paired.begin(), c.paired.end(), [](const auto& p) { return p.experiment == "clcp@ep19"; });
  REQUIRE(row != c.paired.end());
  CHECK(row->reference == "imagenet");  // the full-finetuning group, not "imagenet (fb)"
  CHECK(row->seeds == 1);               // clcp@ep19 has seed 0 only
  // The same bundles through the compare command's function: identical numbers and verdicts.
  std::vector<fs::path> a, b;
  for (const auto& dir : d.bundles) {
    const auto spec = clcp::read_json(dir / "spec.json");
    if (spec["fingerprint"] != c.fingerprint || spec["finetune_mode"] != "full") continue;
    if (spec["init"] == "imagenet") a.push_back(dir);
    if (spec["init"] == "clcp@ep19") b.push_back(dir);
  }
  clcp::stats::CompareOptions co;
  co.bootstrap = demo_options(d).bootstrap;
  const auto r = clcp::stats::compare(a, b, co);
  CHECK(row->miou_source.delta.value == r.miou_source.delta.value);
  CHECK(row->miou_target.delta.lo == r.miou_target.delta.lo);
  CHECK(row->rpd.delta.hi == r.rpd.delta.hi);
  CHECK(row->miou_target.verdict == r.miou_target.verdict);
  CHECK(row->miou_source.delta.value == Approx(0.55 - 0.60));  // made with mIoU source 0.55 against seed 0's 0.60
  CHECK(row->miou_source.verdict == "worse");
  for (const auto& p : c.paired) CHECK(p.experiment.rfind("imagenet", 0) != 0);  // the reference is not paired with itself
  fs::remove_all(root);
}
