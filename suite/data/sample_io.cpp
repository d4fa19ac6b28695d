#include "suite/data/sample_io.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <system_error>

#include <png.h>

#include "suite/core/error.hpp"
#include "suite/core/sniff.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/notes.hpp"
#include "suite/data/png_decode.hpp"

namespace fs = std::filesystem;

namespace clcp {

namespace {

// A camera image that is not 8-bit colour is converted as cv::imread(IMREAD_COLOR) converts it (what mmcv's
// LoadImageFromFile gives mmseg); the first such image of each kind is named once, so the conversion is never silent.
void note_conversion(const fs::path& path, const PngHeader& h) {
  const bool alpha = (h.color_type & PNG_COLOR_MASK_ALPHA) != 0;
  const bool gray = (h.color_type & PNG_COLOR_MASK_COLOR) == 0;
  if (alpha) note_once("png-alpha", fmt::format("{}: {} image; its alpha channel is dropped (as cv::imread "
                                                "IMREAD_COLOR); later images like it are not named",
                                                path.string(), h.describe()));
  if (gray) note_once("png-gray", fmt::format("{}: {} image; gray is replicated to three channels (as cv::imread "
                                              "IMREAD_COLOR); later images like it are not named",
                                              path.string(), h.describe()));
  if (h.bit_depth == 16) note_once("png-16bit", fmt::format("{}: {} image; samples are reduced to 8 bits (as "
                                                            "cv::imread IMREAD_COLOR); later images like it are not "
                                                            "named",
                                                            path.string(), h.describe()));
}

cv::Mat decode(const fs::path& path, int flags) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("{}: file not found; re-download or regenerate it", path.string());
  if (has_png_signature(path)) {
    // libpng with our own error handler: its messages come back here instead of going to stderr.
    PngDecoded d = decode_png(path, flags);
    if (!d.error.empty())
      fail("{}: PNG does not decode ({}); re-download or regenerate it", path.string(), d.error);
    if (flags == cv::IMREAD_COLOR) note_conversion(path, d.header);
    return d.image;
  }
  // Not a PNG (Cityscapes and ACDC are PNG; another format is read by OpenCV as mmcv would).
  cv::Mat m;
  try {
    m = cv::imread(path.string(), flags);
  } catch (const cv::Exception&) {
    m.release();
  }
  if (m.empty())
    fail("{}: does not decode as an image: it is {}; re-download or regenerate it", path.string(),
         describe_content(path));
  return m;
}

// Index of the first pixel whose value is "bad" in `table` (table[v] != 0), or -1.
int64_t first_bad(const cv::Mat& m, const std::array<uint8_t, 256>& bad) {
  for (int y = 0; y < m.rows; ++y) {
    const uint8_t* p = m.ptr<uint8_t>(y);
    for (int x = 0; x < m.cols; ++x)
      if (bad[p[x]]) return static_cast<int64_t>(y) * m.cols + x;
  }
  return -1;
}

}  // namespace

LoadedSample load_sample(const ImageRecord& r) {
  LoadedSample s;
  s.image = decode(r.image, cv::IMREAD_COLOR);
  cv::Mat raw = decode(r.label, cv::IMREAD_UNCHANGED);
  if (raw.type() != CV_8UC1)
    fail("{}: label must be an 8-bit single-channel PNG, got {}-bit with {} channels; use *_labelTrainIds.png or "
         "*_labelIds.png, not colour or instance PNGs",
         r.label.string(), raw.elemSize1() * 8, raw.channels());
  if (raw.size() != s.image.size())
    fail("{}: label is {}x{} but image {} is {}x{}; the label must match its image, re-download or regenerate it",
         r.label.string(), raw.cols, raw.rows, r.image.string(), s.image.cols, s.image.rows);

  std::array<uint8_t, 256> bad{};
  if (r.encoding == LabelEncoding::kLabelIds) {
    const auto& lut = label_id_lut();
    for (int v = 0; v < 256; ++v) bad[v] = lut[v] == 254;
    const int64_t i = first_bad(raw, bad);
    if (i >= 0)
      fail("{}: unknown labelId {} at pixel (x={}, y={}); expected Cityscapes labelIds 0–33; re-download or "
           "regenerate it",
           r.label.string(), raw.data[i], i % raw.cols, i / raw.cols);
    cv::Mat lut_mat(1, 256, CV_8U, const_cast<uint8_t*>(lut.data()));
    cv::LUT(raw, lut_mat, s.label);
  } else {
    for (int v = kNumClasses; v < 255; ++v) bad[v] = 1;
    const int64_t i = first_bad(raw, bad);
    if (i >= 0)
      fail("{}: label value {} at pixel (x={}, y={}) is not a trainId (0–18 or 255); regenerate labelTrainIds "
           "(a labelIds PNG must be named *_labelIds.png)",
           r.label.string(), raw.data[i], i % raw.cols, i / raw.cols);
    s.label = raw;
  }
  return s;
}

}  // namespace clcp
