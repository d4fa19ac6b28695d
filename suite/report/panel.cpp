#include "suite/report/panel.hpp"

#include <openssl/evp.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "suite/core/error.hpp"
#include "suite/data/labels.hpp"

namespace clcp {

cv::Mat colourise_train_ids(const cv::Mat& ids, const cv::Mat& ignore_mask) {
  if (ids.type() != CV_8UC1) fail("panel: a label map must be 8-bit single-channel trainIds");
  if (!ignore_mask.empty() && (ignore_mask.type() != CV_8UC1 || ignore_mask.size() != ids.size()))
    fail("panel: the ignore mask must be an 8-bit map of the label map's size");
  cv::Mat out(ids.size(), CV_8UC3);
  for (int y = 0; y < ids.rows; ++y)
    for (int x = 0; x < ids.cols; ++x) {
      const uint8_t v = ids.at<uint8_t>(y, x);
      if (v == 255 || (!ignore_mask.empty() && ignore_mask.at<uint8_t>(y, x) == 255)) {
        out.at<cv::Vec3b>(y, x) = kIgnoreColourBgr;
        continue;
      }
      if (v >= kNumClasses) fail("panel: trainId {} at (x {}, y {}) is outside 0..18 and 255", v, x, y);
      const auto& rgb = kPalette[v];
      out.at<cv::Vec3b>(y, x) = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
    }
  return out;
}

std::string png_data_uri(const cv::Mat& bgr) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) fail("panel: PNG encoding failed");
  std::string b64(4 * ((png.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), png.data(), static_cast<int>(png.size()));
  b64.resize(static_cast<size_t>(n));
  return "data:image/png;base64," + b64;
}

namespace {

cv::Mat read_png(const std::filesystem::path& p, int flags) {
  cv::Mat m = cv::imread(p.string(), flags);
  if (m.empty()) fail("{}: cannot read the panel image; re-run the cell with --force to write it again", p.string());
  return m;
}

}  // namespace

std::vector<cv::Mat> panel_tiles(const PanelRow& row) {
  const cv::Mat image = read_png(row.image, cv::IMREAD_COLOR);
  const cv::Mat label = read_png(row.label, cv::IMREAD_GRAYSCALE);
  std::vector<cv::Mat> tiles{image, colourise_train_ids(label)};
  for (const auto& p : row.preds) {
    if (p.empty() || !std::filesystem::exists(p)) {
      tiles.emplace_back(image.size(), CV_8UC3, cv::Scalar(200, 200, 200));
      continue;
    }
    const cv::Mat pred = read_png(p, cv::IMREAD_GRAYSCALE);
    if (pred.size() != label.size())
      fail("{}: prediction {}x{} but the panel's label is {}x{}; re-run the cell with --force", p.string(), pred.cols,
           pred.rows, label.cols, label.rows);
    tiles.push_back(colourise_train_ids(pred, label));
  }
  return tiles;
}

cv::Mat panel_grid(const std::vector<PanelRow>& rows) {
  if (rows.empty()) return {};
  constexpr int gap = 4;
  std::vector<std::vector<cv::Mat>> tiles;
  int tile_w = 0, cols = 0;
  for (const auto& r : rows) {
    tiles.push_back(panel_tiles(r));
    cols = std::max(cols, static_cast<int>(tiles.back().size()));
    tile_w = std::max(tile_w, tiles.back()[0].cols);
  }
  std::vector<int> heights;
  int total_h = 0;
  for (auto& row : tiles) {
    const double s = static_cast<double>(tile_w) / row[0].cols;
    const int h = static_cast<int>(row[0].rows * s + 0.5);
    for (auto& t : row)
      if (t.cols != tile_w) cv::resize(t, t, cv::Size(tile_w, h), 0, 0, cv::INTER_NEAREST);
    heights.push_back(h);
    total_h += h + gap;
  }
  cv::Mat grid(total_h - gap, cols * (tile_w + gap) - gap, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = 0;
  for (size_t r = 0; r < tiles.size(); ++r) {
    for (size_t c = 0; c < tiles[r].size(); ++c)
      tiles[r][c].copyTo(grid(cv::Rect(static_cast<int>(c) * (tile_w + gap), y, tile_w, heights[r])));
    y += heights[r] + gap;
  }
  return grid;
}

}  // namespace clcp
