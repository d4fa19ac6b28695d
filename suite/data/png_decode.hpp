// PNG decoding through libpng with our own error and warning handlers. OpenCV 4.6's PNG decoder creates its libpng
// reader without handlers, so libpng's defaults print "libpng error: Read Error" or "libpng error: IDAT: CRC error"
// to stderr (no file named) before cv::imread returns an empty Mat; cv::imdecode does the same ("PNG input buffer is
// incomplete"), and OpenCV's log level does not reach libpng (measured with Debian's OpenCV 4.6.0 and libpng 1.6.39).
// This reader makes the same libpng calls as OpenCV 4.6's PngDecoder (readHeader + readData) and imread's type rules,
// so the pixels are byte-identical to cv::imread(path, flags) for IMREAD_COLOR and IMREAD_UNCHANGED
// (tests/unit/data/test_png_decode.cpp checks every PNG colour type, bit depth, palette, tRNS and interlacing
// against cv::imread), while a damaged file returns libpng's message instead of printing it.
//
// IMREAD_COLOR: CV_8UC3 BGR — 16-bit samples reduced to 8 (png_set_strip_16), alpha dropped, palette expanded, gray
// replicated to three channels. IMREAD_UNCHANGED: the file's own channels (1, 3, or 4 when the file has alpha or a
// tRNS chunk on an RGB/palette image; gray+alpha gives 4: G,G,G,A) and depth (CV_8U or CV_16U), colour in BGR order.
#pragma once
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace clcp {

/// The IHDR facts of a PNG, for notes such as "RGBA converted to BGR".
struct PngHeader {
  int width = 0, height = 0;
  int bit_depth = 0;   ///< 1, 2, 4, 8, 16
  int color_type = 0;  ///< PNG_COLOR_TYPE_*: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  bool has_trns = false;
  bool interlaced = false;
  /// "8-bit RGB", "8-bit RGBA", "16-bit gray", "8-bit palette with transparency", …
  std::string describe() const;
};

struct PngDecoded {
  cv::Mat image;                      ///< empty when `error` is set
  PngHeader header;
  std::string error;                  ///< "" on success, else libpng's (or our) reason, e.g. "Read Error"
  std::vector<std::string> warnings;  ///< libpng warnings (e.g. "iCCP: known incorrect sRGB profile"), not printed
};

/// Decodes the PNG at `path` with cv::IMREAD_COLOR or cv::IMREAD_UNCHANGED semantics (see above). Never prints and
/// never throws for a bad file: a file that is not a PNG, is truncated, has a bad CRC or bad compressed data, or
/// exceeds 2^30 pixels (OpenCV's limit) returns `error`. Thread-safe.
PngDecoded decode_png(const std::filesystem::path& path, int imread_flags);

/// True when the file starts with the 8-byte PNG signature.
bool has_png_signature(const std::filesystem::path& path);

}  // namespace clcp
