// Helpers for the data-stage tests: a self-deleting temp folder and writers for tiny image/label PNGs.
#pragma once
#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <unistd.h>

namespace clcp::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("clcp_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Writes a w×h BGR image whose pixels encode their position, creating parent folders.
inline void write_image(const std::filesystem::path& p, int w = 16, int h = 8, int seed = 0) {
  std::filesystem::create_directories(p.parent_path());
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 7 + seed), uint8_t(y * 11), uint8_t(x + y + 3 * seed));
  cv::imwrite(p.string(), m);
}

/// Writes a w×h uint8 label filled with `value`, creating parent folders.
inline void write_label(const std::filesystem::path& p, int w = 16, int h = 8, int value = 0) {
  std::filesystem::create_directories(p.parent_path());
  cv::imwrite(p.string(), cv::Mat(h, w, CV_8U, cv::Scalar(value)));
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace clcp::test
