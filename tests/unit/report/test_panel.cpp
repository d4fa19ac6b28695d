// The qualitative panel: the Cityscapes palette on a hand-made label map, ignored pixels, the data URI, and the
// panel rows the report builds from the files the evaluation kept.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "fixtures.hpp"
#include "suite/core/fsio.hpp"
#include "suite/eval/panel.hpp"
#include "suite/report/panel.hpp"
#include "suite/report/render.hpp"

namespace fs = std::filesystem;

TEST_CASE("the panel colours every trainId in the Cityscapes palette and ignored pixels black") {
  // cityscapesScripts labels.py colours (RGB) of trainIds 0..18, typed from its table.
  const int rgb[19][3] = {{128, 64, 128}, {244, 35, 232}, {70, 70, 70},   {102, 102, 156}, {190, 153, 153},
                          {153, 153, 153}, {250, 170, 30}, {220, 220, 0}, {107, 142, 35},  {152, 251, 152},
                          {70, 130, 180},  {220, 20, 60},  {255, 0, 0},   {0, 0, 142},     {0, 0, 70},
                          {0, 60, 100},    {0, 80, 100},   {0, 0, 230},   {119, 11, 32}};
  cv::Mat ids(1, 20, CV_8UC1);
  for (int k = 0; k < 19; ++k) ids.at<uint8_t>(0, k) = static_cast<uint8_t>(k);
  ids.at<uint8_t>(0, 19) = 255;
  const cv::Mat bgr = clcp::colourise_train_ids(ids);
  for (int k = 0; k < 19; ++k) CHECK(bgr.at<cv::Vec3b>(0, k) == cv::Vec3b(rgb[k][2], rgb[k][1], rgb[k][0]));
  CHECK(bgr.at<cv::Vec3b>(0, 19) == cv::Vec3b(0, 0, 0));
  // A prediction is black where the ground truth is ignored, whatever it predicted there.
  cv::Mat mask(1, 20, CV_8UC1, cv::Scalar(0));
  mask.at<uint8_t>(0, 3) = 255;
  const cv::Mat masked = clcp::colourise_train_ids(ids, mask);
  CHECK(masked.at<cv::Vec3b>(0, 3) == cv::Vec3b(0, 0, 0));
  CHECK(masked.at<cv::Vec3b>(0, 4) == cv::Vec3b(153, 153, 190));
  ids.at<uint8_t>(0, 0) = 19;
  CHECK_THROWS_WITH(clcp::colourise_train_ids(ids), Catch::Contains("trainId 19 at (x 0, y 0)"));
}

TEST_CASE("a panel tile is embedded as a base64 PNG that decodes to the same pixels") {
  cv::Mat m(2, 3, CV_8UC3, cv::Scalar(1, 2, 3));
  m.at<cv::Vec3b>(1, 2) = cv::Vec3b(200, 100, 50);
  const std::string uri = clcp::png_data_uri(m);
  const std::string prefix = "data:image/png;base64,";
  REQUIRE(uri.rfind(prefix, 0) == 0);
  const std::string b64 = uri.substr(prefix.size());
  std::vector<unsigned char> raw(b64.size());
  const int n = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  REQUIRE(n > 0);
  raw.resize(static_cast<size_t>(n));
  while (!raw.empty() && raw.back() == 0) raw.pop_back();  // EVP_DecodeBlock pads to whole groups
  const cv::Mat back = cv::imdecode(raw, cv::IMREAD_COLOR);
  REQUIRE(back.size() == m.size());
  CHECK(cv::norm(back, m, cv::NORM_INF) == 0);
}

TEST_CASE("the report's panel has the source images first and one prediction column per init") {
  const fs::path root = fs::temp_directory_path() / "clcp_report_panel";
  fs::remove_all(root);
  const fs::path a = fixtures::make_bundle(root, {"random", "frozen", 0, 0.5, 0.3});
  const fs::path b = fixtures::make_bundle(root, {"supervised-b16@ep7", "frozen", 0, 0.6, 0.4});
  cv::Mat img(4, 8, CV_8UC3, cv::Scalar(5, 5, 5)), lab(4, 8, CV_8UC1, cv::Scalar(0)), pred(4, 8, CV_8UC1, cv::Scalar(2));
  lab.at<uint8_t>(0, 0) = 255;
  for (const auto& dir : {a, b}) {
    clcp::write_panel_files(clcp::panel_files(dir, "cityscapes_val", "leftImg8bit/val/c/c_1.png"), img, lab, pred);
    clcp::write_panel_files(clcp::panel_files(dir, "acdc_val", "rgb_anon/fog/val/f_1.png"), img, lab, pred);
  }
  fs::remove(clcp::panel_files(b, "acdc_val", "rgb_anon/fog/val/f_1.png").pred);  // one missing prediction
  clcp::ReportOptions o;
  o.generated = "2026-01-01T00:00:00Z";
  o.bootstrap.replicates = 20;
  const auto model = clcp::build_report_model({a, b}, o);
  const auto& c = model.comparisons.at(0);
  CHECK(c.panel_columns == std::vector<std::string>{"random (fb)", "supervised-b16@ep7 (fb)"});
  REQUIRE(c.panel.size() == 2);
  CHECK(c.panel[0].split == "cityscapes_val");  // the source split leads
  CHECK(c.panel[0].id == "leftImg8bit/val/c/c_1");
  CHECK(c.panel[1].split == "acdc_val");
  CHECK(c.panel[1].preds[1].empty());
  const auto tiles = clcp::panel_tiles(c.panel[1]);
  REQUIRE(tiles.size() == 4);  // image, ground truth, two predictions
  CHECK(tiles[1].at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0));        // ignored in the ground truth
  CHECK(tiles[2].at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 0));        // ... and marked in the prediction
  CHECK(tiles[2].at<cv::Vec3b>(1, 1) == cv::Vec3b(70, 70, 70));     // building (trainId 2)
  CHECK(tiles[3].at<cv::Vec3b>(1, 1) == cv::Vec3b(200, 200, 200));  // no prediction: grey
  const auto written = clcp::write_report(model, root / "report", {"md", "html", "latex"});
  CHECK(fs::exists(root / "report" / "panel-c0.png"));
  CHECK(clcp::read_file(root / "report" / "report.md").find("![qualitative panel](panel-c0.png)") != std::string::npos);
  CHECK(clcp::read_file(root / "report" / "report.tex").find("\\includegraphics[width=\\linewidth]{%\npanel-c0.png%\n}") !=
        std::string::npos);
  const std::string html = clcp::read_file(root / "report" / "report.html");
  CHECK(html.find("<h3>Qualitative panel</h3>") != std::string::npos);
  size_t uris = 0;
  for (size_t p = html.find("data:image/png;base64,"); p != std::string::npos; p = html.find("data:image/png;base64,", p + 1)) ++uris;
  CHECK(uris == 8);  // 2 rows x (image, ground truth, 2 predictions)
  fs::remove_all(root);
}
