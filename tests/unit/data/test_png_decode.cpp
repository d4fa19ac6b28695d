// The PNG reader (suite/data/png_decode.hpp) against the real implementation it stands in for: cv::imread of
// Debian's OpenCV 4.6 on the same file gives the same Mat (type, size, every byte) for every PNG colour type, bit
// depth, palette, transparency and interlacing, with IMREAD_COLOR and IMREAD_UNCHANGED; and a damaged PNG is
// reported back instead of libpng printing "libpng error: …" on stderr.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <png.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include "data_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/png_decode.hpp"
#include "suite/data/sample_io.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A PNG written with libpng itself, for the types cv::imwrite cannot produce (palette, gray+alpha, tRNS, Adam7).
struct PngSpec {
  int width = 13, height = 7, bit_depth = 8, color_type = PNG_COLOR_TYPE_RGB;
  bool interlace = false, trns = false;
};

void write_png(const fs::path& path, const PngSpec& s) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  REQUIRE(setjmp(png_jmpbuf(png)) == 0);
  png_init_io(png, f);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (s.color_type == PNG_COLOR_TYPE_PALETTE) {
    std::vector<png_color> pal(1 << std::min(s.bit_depth, 8));
    for (size_t i = 0; i < pal.size(); ++i)
      pal[i] = png_color{uint8_t(i * 37), uint8_t(255 - i * 11), uint8_t(i * 5 + 3)};
    png_set_PLTE(png, info, pal.data(), static_cast<int>(pal.size()));
  }
  if (s.trns) {
    if (s.color_type == PNG_COLOR_TYPE_PALETTE) {
      std::vector<png_byte> alpha{0, 128, 255};
      png_set_tRNS(png, info, alpha.data(), 3, nullptr);
    } else {
      png_color_16 c{};
      c.red = c.green = c.blue = c.gray = 3;
      png_set_tRNS(png, info, nullptr, 0, &c);
    }
  }
  png_write_info(png, info);
  const int channels = png_get_channels(png, info);
  const size_t row_bytes = (static_cast<size_t>(s.width) * channels * s.bit_depth + 7) / 8;
  std::vector<png_byte> data(row_bytes * s.height);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<png_byte>((i * 73 + 11) ^ (i >> 3));
  std::vector<png_bytep> rows(s.height);
  for (int y = 0; y < s.height; ++y) rows[y] = data.data() + y * row_bytes;
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

bool same_mat(const cv::Mat& a, const cv::Mat& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  for (int y = 0; y < a.rows; ++y)
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) return false;
  return true;
}

// Runs fn with fd 2 redirected into a file; returns what was written there.
template <typename Fn>
std::string stderr_of(Fn fn) {
  const fs::path log = fs::temp_directory_path() / ("clcp_stderr_" + std::to_string(::getpid()));
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 2);
  ::close(fd);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  const std::string text = read_file(log);
  fs::remove(log);
  return text;
}

}  // namespace

TEST_CASE("every PNG colour type and bit depth decodes byte-identically to cv::imread, colour and unchanged",
          "[data][png]") {
  TempDir tmp;
  std::vector<std::pair<std::string, PngSpec>> cases;
  for (int depth : {1, 2, 4, 8, 16}) cases.push_back({"gray" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_GRAY}});
  for (int depth : {1, 2, 4, 8}) cases.push_back({"palette" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_PALETTE}});
  for (int depth : {8, 16}) {
    cases.push_back({"rgb" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_RGB}});
    cases.push_back({"rgba" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_RGB_ALPHA}});
    cases.push_back({"gray_alpha" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_GRAY_ALPHA}});
    cases.push_back({"rgb_trns" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_RGB, false, true}});
    cases.push_back({"gray_trns" + std::to_string(depth), {13, 7, depth, PNG_COLOR_TYPE_GRAY, false, true}});
  }
  cases.push_back({"palette_trns", {13, 7, 8, PNG_COLOR_TYPE_PALETTE, false, true}});
  cases.push_back({"rgb_adam7", {37, 19, 8, PNG_COLOR_TYPE_RGB, true}});
  cases.push_back({"gray16_adam7", {37, 19, 16, PNG_COLOR_TYPE_GRAY, true}});
  for (const auto& [name, spec] : cases) {
    const fs::path p = tmp.path() / (name + ".png");
    write_png(p, spec);
    for (const int flags : {cv::IMREAD_COLOR, cv::IMREAD_UNCHANGED}) {
      INFO(name << " flags " << flags);
      const cv::Mat want = cv::imread(p.string(), flags);
      REQUIRE(!want.empty());
      const PngDecoded got = decode_png(p, flags);
      REQUIRE(got.error.empty());
      CHECK(got.header.bit_depth == spec.bit_depth);
      CHECK(got.header.color_type == spec.color_type);
      CHECK(same_mat(got.image, want));
    }
  }
}

TEST_CASE("PNGs written by cv::imwrite and the real Cityscapes frames decode as cv::imread decodes them",
          "[data][png]") {
  TempDir tmp;
  cv::Mat bgr(9, 11, CV_8UC3), bgra(9, 11, CV_8UC4), g16(9, 11, CV_16UC1);
  cv::randu(bgr, 0, 256);
  cv::randu(bgra, 0, 256);
  cv::randu(g16, 0, 65536);
  std::vector<fs::path> files;
  for (const auto& [name, m] : {std::pair{"bgr", bgr}, std::pair{"bgra", bgra}, std::pair{"g16", g16}}) {
    files.push_back(tmp.path() / (std::string(name) + ".png"));
    REQUIRE(cv::imwrite(files.back().string(), m));
  }
  const fs::path real = fs::path(CLCP_REALDATA_DIR) / "cityscapes";
  if (fs::exists(real)) {
    for (const auto& e : fs::recursive_directory_iterator(real))
      if (e.path().extension() == ".png" && files.size() < 12) files.push_back(e.path());
  } else {
    WARN("real Cityscapes frames not found under " << real << "; checked synthetic PNGs only");
  }
  for (const auto& p : files)
    for (const int flags : {cv::IMREAD_COLOR, cv::IMREAD_UNCHANGED}) {
      INFO(p << " flags " << flags);
      const cv::Mat want = cv::imread(p.string(), flags);
      const PngDecoded got = decode_png(p, flags);
      REQUIRE(got.error.empty());
      CHECK(same_mat(got.image, want));
    }
}

TEST_CASE("a truncated or corrupt PNG returns libpng's reason and prints nothing on stderr", "[data][png]") {
  TempDir tmp;
  const fs::path good = tmp.path() / "good.png";
  write_png(good, {64, 32, 8, PNG_COLOR_TYPE_RGB});
  const std::string bytes = read_file(good);
  const fs::path trunc = tmp.path() / "trunc.png", crc = tmp.path() / "crc.png", padded = tmp.path() / "padded.png";
  write_atomic(trunc, bytes.substr(0, bytes.size() / 2));
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 0x5a;  // inside IDAT: its CRC no longer matches
  write_atomic(crc, bad);
  write_atomic(padded, bytes.substr(0, bytes.size() / 2) + std::string(bytes.size() - bytes.size() / 2, '\0'));
  // What cv::imread prints for the same files (the behaviour this reader replaces): libpng's own lines.
  const std::string opencv_noise = stderr_of([&] {
    for (const auto& p : {trunc, crc}) CHECK(cv::imread(p.string(), cv::IMREAD_COLOR).empty());
  });
  CHECK_THAT(opencv_noise, Catch::Contains("libpng error"));
  PngDecoded t, c, z;
  const std::string ours = stderr_of([&] {
    t = decode_png(trunc, cv::IMREAD_COLOR);
    c = decode_png(crc, cv::IMREAD_COLOR);
    z = decode_png(padded, cv::IMREAD_UNCHANGED);
  });
  CHECK(ours.empty());
  CHECK(t.image.empty());
  CHECK(t.error == "Read Error");
  CHECK_THAT(c.error, Catch::StartsWith("IDAT: "));  // zlib's check or the chunk CRC, whichever fails first
  CHECK(!z.error.empty());
  // Through load_sample: one line naming the file and libpng's reason, and still nothing on stderr.
  ImageRecord r{trunc, good, LabelEncoding::kTrainIds, "", "trunc"};
  std::string line;
  const std::string quiet = stderr_of([&] {
    try {
      load_sample(r);
    } catch (const UserError& e) {
      line = e.what();
    }
  });
  CHECK(quiet.empty());
  CHECK(line == trunc.string() + ": PNG does not decode (Read Error); re-download or regenerate it");
}

TEST_CASE("the PNG header names what the file holds", "[data][png]") {
  TempDir tmp;
  const fs::path p = tmp.path() / "x.png";
  write_png(p, {5, 3, 16, PNG_COLOR_TYPE_RGB_ALPHA});
  const PngDecoded d = decode_png(p, cv::IMREAD_COLOR);
  CHECK(d.header.describe() == "16-bit RGBA");
  CHECK(d.image.type() == CV_8UC3);
  write_png(p, {5, 3, 8, PNG_COLOR_TYPE_PALETTE, false, true});
  CHECK(decode_png(p, cv::IMREAD_UNCHANGED).header.describe() == "8-bit palette with transparency");
  write_atomic(p, "not a png");
  CHECK(decode_png(p, cv::IMREAD_COLOR).error == "not a PNG file (no PNG signature)");
}
