#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "suite/core/fsio.hpp"
#include "suite/report/render.hpp"
#include "suite/results/bundle.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// Metrics as eval's summarise() writes them, with round numbers a reader can check by eye.
json metrics_block(double miou, double first_iou) {
  json iou = json::array();
  for (int k = 0; k < 19; ++k) iou.push_back(k == 0 ? json(first_iou) : (k == 16 ? json(nullptr) : json(0.5)));
  return {{"mIoU", miou}, {"aAcc", 0.9}, {"mAcc", 0.6}, {"images", 24}, {"IoU", iou}};
}

fs::path make_bundle(const fs::path& root, const std::string& init, const std::string& mode, double src, double tgt,
                     const std::string& fingerprint = "fp00000000000000") {
  clcp::CellSpec c;
  c.protocol = "dg_acdc";
  c.scale = "smoke";
  c.fingerprint = fingerprint;
  c.init = init;
  c.finetune_mode = mode;
  c.seed = 0;
  c.datasets = json::object();
  c.recipe = {{"target", {{"conditions", {"fog", "night", "rain", "snow"}}}}};
  const auto b = clcp::Bundle::for_cell(root, c);
  b.write_spec(c);
  b.write_provenance({{"command", "clcp-bench run --protocol dg_acdc --init " + init}});
  json per = json::object();
  for (const char* cond : {"fog", "night", "rain", "snow"}) per[cond] = metrics_block(tgt, 0.25);
  b.write_metrics({{"source", metrics_block(src, 0.75)},
                   {"target", {{"pooled", metrics_block(tgt, 0.25)}, {"per_condition", per}}},
                   {"rPD", tgt / src}});
  b.write_status("done", "done");
  return b.dir();
}
}  // namespace

TEST_CASE("the Markdown report of two bundles matches the golden file") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_golden";
  fs::remove_all(root);
  const auto a = make_bundle(root, "imagenet", "full", 0.6801, 0.3793);
  const auto b = make_bundle(root, "imagenet", "frozen", 0.5821, 0.4000);
  auto model = clcp::build_report_model({a, b}, "golden");
  model.generated = "2026-01-01T00:00:00Z";
  for (auto& c : model.cells) c.bundle_dir = "BUNDLE/" + c.cell_id;  // temp paths differ per machine
  const std::string md = clcp::render_report(model, "md");
  const fs::path golden = fs::path(CLCP_SOURCE_DIR) / "tests/golden/report_two_cells.md";
  if (std::getenv("CLCP_UPDATE_GOLDEN")) clcp::write_atomic(golden, md);
  CHECK(md == clcp::read_file(golden));
  fs::remove_all(root);
}

TEST_CASE("report rows follow the thesis Table 4.1 layout with percent values and rPD") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_rows";
  fs::remove_all(root);
  const auto a = make_bundle(root, "liploc-kitti", "frozen", 0.6042, 0.3840);
  const auto model = clcp::build_report_model({a}, "t");
  const std::string md = clcp::render_report(model, "md");
  CHECK(md.find("| liploc-kitti (fb) | 0 | 60.42 | 38.40 | 0.64 | done |") != std::string::npos);
  const std::string tex = clcp::render_report(model, "tex");
  CHECK(tex.find("liploc-kitti (fb) & 0 & 60.42 & 38.40 & 0.64 \\\\") != std::string::npos);
  CHECK(tex.find("\\toprule") != std::string::npos);
  const std::string html = clcp::render_report(model, "html");
  CHECK(html.find("<td class=\"num\">60.42</td>") != std::string::npos);
  CHECK(html.find("http") == std::string::npos);  // self-contained: nothing fetched from the network
  fs::remove_all(root);
}

TEST_CASE("a class that is NaN in the metrics shows as a dash, not as zero") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_nan";
  fs::remove_all(root);
  const auto model = clcp::build_report_model({make_bundle(root, "random", "full", 0.5, 0.25)}, "t");
  CHECK(clcp::render_report(model, "md").find("| train | – | – |") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("bundles with different fingerprints are flagged as not comparable") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_mixed";
  fs::remove_all(root);
  const auto a = make_bundle(root, "random", "full", 0.5, 0.25, "aaaaaaaaaaaaaaaa");
  const auto b = make_bundle(root, "random", "frozen", 0.5, 0.25, "bbbbbbbbbbbbbbbb");
  const auto model = clcp::build_report_model({a, b}, "t");
  CHECK(clcp::render_report(model, "md").find("not comparable") != std::string::npos);
  CHECK(clcp::render_report(model, "tex").find("WARNING") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("LaTeX special characters in names are escaped") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_tex";
  fs::remove_all(root);
  const auto model = clcp::build_report_model({make_bundle(root, "my_init_50%", "full", 0.5, 0.25)}, "t");
  CHECK(clcp::render_report(model, "tex").find("my\\_init\\_50\\%") != std::string::npos);
  fs::remove_all(root);
}
