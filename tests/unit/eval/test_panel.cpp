// The qualitative panel's image choice (from ids alone, hand-computed sha256 keys) and its files in a bundle.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>

#include "suite/eval/panel.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

Split panel_split(const std::vector<std::pair<std::string, std::string>>& cond_ids) {
  Split s;
  s.dataset = "x";
  for (const auto& [cond, id] : cond_ids) {
    ImageRecord r;
    r.id = id;
    r.condition = cond;
    s.records.push_back(r);
  }
  return s;
}

std::vector<std::string> chosen_ids(const Split& s) {
  std::vector<std::string> out;
  for (size_t i : panel_records(s, panel_per_group(s))) out.push_back(s.records[i].id);
  return out;
}

}  // namespace

TEST_CASE("the panel takes the ids with the smallest salted sha256 in each group, whatever the record order") {
  // sha256("clcp-panel/1:" + id)[:8]: a_1 9a6e17cd, a_2 01891667, b_3 a8c4fe90, b_4 0f93cd3c, b_5 13a7f07e.
  Split cs = panel_split({{"", "leftImg8bit/val/a/a_1.png"},
                          {"", "leftImg8bit/val/a/a_2.png"},
                          {"", "leftImg8bit/val/b/b_3.png"},
                          {"", "leftImg8bit/val/b/b_4.png"},
                          {"", "leftImg8bit/val/b/b_5.png"}});
  const std::vector<std::string> want{"leftImg8bit/val/a/a_2.png", "leftImg8bit/val/b/b_4.png"};
  CHECK(panel_per_group(cs) == 2);
  CHECK(chosen_ids(cs) == want);
  std::reverse(cs.records.begin(), cs.records.end());
  CHECK(chosen_ids(cs) == want);
  // One per ACDC condition: fog f1 8764a3ae < f2 f6323528; night n2 5bbd1b13 < n1 71c82809.
  Split acdc = panel_split({{"night", "rgb_anon/night/val/x/n1.png"},
                            {"fog", "rgb_anon/fog/val/x/f2.png"},
                            {"night", "rgb_anon/night/val/x/n2.png"},
                            {"fog", "rgb_anon/fog/val/x/f1.png"}});
  CHECK(panel_per_group(acdc) == 1);
  CHECK(chosen_ids(acdc) == std::vector<std::string>{"rgb_anon/fog/val/x/f1.png", "rgb_anon/night/val/x/n2.png"});
  CHECK(panel_records(panel_split({{"", "only.png"}}), 2).size() == 1);  // fewer images than asked: all of them
}

TEST_CASE("panel files are named after the id and stored as a thumbnail with nearest-resized label maps") {
  const fs::path dir = fs::temp_directory_path() / "clcp_panel_files";
  fs::remove_all(dir);
  const PanelFiles f = panel_files(dir, "cityscapes_val", "leftImg8bit/val/lindau/l_1_leftImg8bit.png");
  CHECK(f.image == dir / "evidence/panel/cityscapes_val/leftImg8bit__val__lindau__l_1_leftImg8bit.image.png");
  CHECK(f.label == dir / "evidence/panel/cityscapes_val/leftImg8bit__val__lindau__l_1_leftImg8bit.label.png");
  CHECK(f.pred == dir / "evidence/panel/cityscapes_val/leftImg8bit__val__lindau__l_1_leftImg8bit.pred.png");
  // 1024x512 → 512x256; a label of 2x2 blocks (ids 7 and 255) keeps exactly those values (nearest).
  cv::Mat image(512, 1024, CV_8UC3, cv::Scalar(10, 20, 30)), label(512, 1024, CV_8UC1), pred(512, 1024, CV_8UC1);
  for (int y = 0; y < 512; ++y)
    for (int x = 0; x < 1024; ++x) {
      label.at<uint8_t>(y, x) = ((x / 2 + y / 2) % 2) ? 7 : 255;
      pred.at<uint8_t>(y, x) = static_cast<uint8_t>((x / 64) % 19);
    }
  write_panel_files(f, image, label, pred);
  const cv::Mat img = cv::imread(f.image.string(), cv::IMREAD_COLOR), lab = cv::imread(f.label.string(), cv::IMREAD_GRAYSCALE);
  CHECK(img.cols == 512);
  CHECK(img.rows == 256);
  CHECK(img.at<cv::Vec3b>(100, 100) == cv::Vec3b(10, 20, 30));
  CHECK(lab.size() == img.size());
  int other = 0;  // pixels that are neither 7 nor 255 (an interpolating resize would make them)
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x) other += lab.at<uint8_t>(y, x) != 7 && lab.at<uint8_t>(y, x) != 255;
  CHECK(other == 0);
  const cv::Mat prd = cv::imread(f.pred.string(), cv::IMREAD_GRAYSCALE);
  CHECK(prd.at<uint8_t>(0, 0) == 0);
  CHECK(prd.at<uint8_t>(0, 511) == 15);  // x 1022 in the original: (1022 / 64) % 19 = 15
  CHECK_THROWS(write_panel_files(f, image, label(cv::Rect(0, 0, 10, 10)), pred));
  fs::remove_all(dir);
}
