#include "suite/eval/panel.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <map>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace clcp {
namespace fs = std::filesystem;

size_t panel_per_group(const Split& split) {
  const bool conditions = std::any_of(split.records.begin(), split.records.end(),
                                      [](const ImageRecord& r) { return !r.condition.empty(); });
  return conditions ? 1 : 2;
}

std::vector<size_t> panel_records(const Split& split, size_t per_group) {
  std::map<std::string, std::vector<std::pair<std::string, size_t>>> groups;  // condition → (key, index)
  for (size_t i = 0; i < split.records.size(); ++i)
    groups[split.records[i].condition].push_back({sha256_hex("clcp-panel/1:" + split.records[i].id), i});
  std::vector<size_t> out;
  for (auto& [cond, members] : groups) {
    std::sort(members.begin(), members.end());
    std::vector<size_t> chosen;
    for (size_t k = 0; k < std::min(per_group, members.size()); ++k) chosen.push_back(members[k].second);
    std::sort(chosen.begin(), chosen.end(),
              [&](size_t a, size_t b) { return split.records[a].id < split.records[b].id; });
    out.insert(out.end(), chosen.begin(), chosen.end());
  }
  return out;
}

PanelFiles panel_files(const fs::path& bundle_dir, const std::string& split_name, const std::string& id) {
  std::string stem = fs::path(id).replace_extension().string();
  for (size_t p = stem.find('/'); p != std::string::npos; p = stem.find('/', p + 2)) stem.replace(p, 1, "__");
  const fs::path dir = bundle_dir / "evidence" / "panel" / split_name;
  return {dir / (stem + ".image.png"), dir / (stem + ".label.png"), dir / (stem + ".pred.png")};
}

namespace {

void write_png_atomic(const fs::path& path, const cv::Mat& m) {
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", m, bytes)) fail("{}: PNG encoding failed; check free memory and disk space", path.string());
  fs::create_directories(path.parent_path());
  write_atomic(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace

void write_panel_files(const PanelFiles& f, const cv::Mat& image_bgr, const cv::Mat& label, const cv::Mat& pred) {
  if (label.size() != image_bgr.size() || pred.size() != image_bgr.size())
    fail("{}: image {}x{}, label {}x{} and prediction {}x{} differ; the panel needs one size", f.image.string(),
         image_bgr.cols, image_bgr.rows, label.cols, label.rows, pred.cols, pred.rows);
  const double s = std::min(1.0, static_cast<double>(kPanelMaxSide) / std::max(image_bgr.cols, image_bgr.rows));
  const cv::Size size(std::max(1, static_cast<int>(image_bgr.cols * s + 0.5)),
                      std::max(1, static_cast<int>(image_bgr.rows * s + 0.5)));
  cv::Mat img = image_bgr, lab = label, prd = pred;
  if (size != image_bgr.size()) {
    cv::resize(image_bgr, img, size, 0, 0, cv::INTER_AREA);
    cv::resize(label, lab, size, 0, 0, cv::INTER_NEAREST);
    cv::resize(pred, prd, size, 0, 0, cv::INTER_NEAREST);
  }
  write_png_atomic(f.image, img);
  write_png_atomic(f.label, lab);
  write_png_atomic(f.pred, prd);
}

}  // namespace clcp
