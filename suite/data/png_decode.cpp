#include "suite/data/png_decode.hpp"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

namespace clcp {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxPixels = uint64_t{1} << 30;  // OpenCV's CV_IO_MAX_IMAGE_PIXELS default

struct Messages {
  char error[256] = {0};
  std::vector<std::string>* warnings = nullptr;
};

void on_error(png_structp png, png_const_charp msg) {
  auto* m = static_cast<Messages*>(png_get_error_ptr(png));
  std::snprintf(m->error, sizeof m->error, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_warning(png_structp png, png_const_charp msg) {
  auto* m = static_cast<Messages*>(png_get_error_ptr(png));
  if (m->warnings && m->warnings->size() < 8) m->warnings->emplace_back(msg ? msg : "");
}

// The decode proper. Everything with a destructor is created by the caller: libpng leaves by longjmp on an error.
bool read_png(FILE* f, int flags, Messages& msgs, PngHeader& h, cv::Mat& img, std::vector<png_bytep>& rows) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &msgs, on_error, on_warning);
  if (!png) {
    std::snprintf(msgs.error, sizeof msgs.error, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  png_infop end_info = png_create_info_struct(png);
  volatile bool ok = false;  // read after a longjmp
  if (info && end_info && setjmp(png_jmpbuf(png)) == 0) {
    png_init_io(png, f);
    png_read_info(png, info);
    png_uint_32 w = 0, hh = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &hh, &bit_depth, &color_type, &interlace, nullptr, nullptr);
    png_bytep trans = nullptr;
    int num_trans = 0;
    png_color_16p trans_values = nullptr;
    png_get_tRNS(png, info, &trans, &num_trans, &trans_values);
    h.width = static_cast<int>(w);
    h.height = static_cast<int>(hh);
    h.bit_depth = bit_depth;
    h.color_type = color_type;
    h.has_trns = num_trans > 0;
    h.interlaced = interlace != PNG_INTERLACE_NONE;
    if (static_cast<uint64_t>(w) * hh > kMaxPixels)
      png_error(png, "image exceeds 2^30 pixels (OpenCV's limit)");
    // The decoder's native type (as OpenCV's PngDecoder::readHeader) …
    int channels = 1;
    if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_PALETTE)
      channels = num_trans > 0 ? 4 : 3;
    else if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || color_type == PNG_COLOR_TYPE_RGB_ALPHA)
      channels = 4;
    int depth = bit_depth == 16 ? CV_16U : CV_8U;
    // … then imread's rules: IMREAD_COLOR is 8-bit, 3 channels; IMREAD_UNCHANGED keeps the native type.
    if (flags != cv::IMREAD_UNCHANGED) {
      depth = CV_8U;
      channels = 3;
    }
    img.create(h.height, h.width, CV_MAKETYPE(depth, channels));
    const bool color = channels > 1;
    // The transforms of OpenCV's PngDecoder::readData, in its order.
    if (depth == CV_8U && bit_depth == 16)
      png_set_strip_16(png);
    else
      png_set_swap(png);  // little-endian host (16-bit samples in host order)
    if (channels < 4)
      png_set_strip_alpha(png);
    else
      png_set_tRNS_to_alpha(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if ((color_type & PNG_COLOR_MASK_COLOR) && color)
      png_set_bgr(png);
    else if (color)
      png_set_gray_to_rgb(png);
    else
      png_set_rgb_to_gray(png, 1, 0.299, 0.587);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) > img.step[0])
      png_error(png, "row size after the transforms does not match the image");
    rows.resize(static_cast<size_t>(h.height));
    for (int y = 0; y < h.height; ++y) rows[static_cast<size_t>(y)] = img.ptr<png_byte>(y);
    png_read_image(png, rows.data());
    png_read_end(png, end_info);
    ok = true;
  }
  png_destroy_read_struct(&png, info ? &info : nullptr, end_info ? &end_info : nullptr);
  return ok;
}

}  // namespace

std::string PngHeader::describe() const {
  const char* kind = "unknown colour type";
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: kind = "gray"; break;
    case PNG_COLOR_TYPE_RGB: kind = "RGB"; break;
    case PNG_COLOR_TYPE_PALETTE: kind = "palette"; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: kind = "gray+alpha"; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: kind = "RGBA"; break;
    default: break;
  }
  return fmt::format("{}-bit {}{}", bit_depth, kind, has_trns ? " with transparency" : "");
}

bool has_png_signature(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char sig[8] = {0};
  const size_t n = std::fread(sig, 1, 8, f);
  std::fclose(f);
  return n == 8 && png_sig_cmp(sig, 0, 8) == 0;
}

PngDecoded decode_png(const fs::path& path, int imread_flags) {
  PngDecoded out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    out.error = std::strerror(errno);
    return out;
  }
  unsigned char sig[8] = {0};
  const size_t n = std::fread(sig, 1, 8, f);
  if (n != 8 || png_sig_cmp(sig, 0, 8) != 0) {
    std::fclose(f);
    out.error = n == 0 ? "empty file" : "not a PNG file (no PNG signature)";
    return out;
  }
  std::rewind(f);
  Messages msgs;
  msgs.warnings = &out.warnings;
  cv::Mat img;
  std::vector<png_bytep> rows;
  const bool ok = read_png(f, imread_flags, msgs, out.header, img, rows);
  std::fclose(f);
  if (ok)
    out.image = img;
  else
    out.error = msgs.error[0] ? msgs.error : "decoding failed";
  return out;
}

}  // namespace clcp
