// A folder of images as pretraining data (suite/data/image_folder.hpp): the scan (suffixes, depth, sorted relative
// paths), the per-folder split, the manifest hash and its sensitivity, and the one-line errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "suite/core/error.hpp"
#include "suite/data/image_folder.hpp"
#include "data_test_util.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {
void if_write(const fs::path& p, int value = 7) {
  fs::create_directories(p.parent_path());
  REQUIRE(cv::imwrite(p.string(), cv::Mat(4, 6, CV_8UC3, cv::Scalar::all(value))));
}
}  // namespace

TEST_CASE("an image folder is scanned at any depth in sorted order and split per folder like A2D2's scenes",
          "[data][images]") {
  test::TempDir d;
  for (int i = 0; i < 5; ++i) if_write(d.path() / "b" / ("f" + std::to_string(i) + ".png"));
  for (int i = 0; i < 3; ++i) if_write(d.path() / "a" / "x" / ("g" + std::to_string(i) + ".JPG"));
  if_write(d.path() / "top.jpeg");
  std::ofstream(d.path() / "b" / "notes.txt") << "not an image";
  const ImageFolder f = read_image_folder(d.path(), 0.4);
  REQUIRE(f.files.size() == 9);
  CHECK(fs::relative(f.files[0], f.root).generic_string() == "a/x/g0.JPG");
  CHECK(fs::relative(f.files[3], f.root).generic_string() == "b/f0.png");
  CHECK(fs::relative(f.files[8], f.root).generic_string() == "top.jpeg");
  // per folder: a/x 3 → floor(1.2) = 1 val (g2); b 5 → 2 val (f3, f4); the root's 1 → 0 val
  std::vector<std::string> val;
  for (const auto& p : f.split("val")) val.push_back(fs::relative(p, f.root).generic_string());
  CHECK(val == std::vector<std::string>{"a/x/g2.JPG", "b/f3.png", "b/f4.png"});
  CHECK(f.split("train").size() == 6);
  // the manifest: stable, and it changes with a file's size or the split
  const std::string h = f.manifest()["hash"];
  CHECK(read_image_folder(d.path(), 0.4).manifest()["hash"] == h);
  CHECK(read_image_folder(d.path(), 0.2).manifest()["hash"] != h);
  std::ofstream(d.path() / "b" / "f0.png", std::ios::app) << "x";
  CHECK(read_image_folder(d.path(), 0.4).manifest()["hash"] != h);
  CHECK(f.manifest()["counts"]["files"] == 9);
}

TEST_CASE("an image folder that is missing, holds no image or leaves a split empty is refused in one line",
          "[data][images]") {
  test::TempDir d;
  CHECK_THROWS_WITH(read_image_folder(d.path() / "nope", 0.2), Catch::Contains("nope: not a folder; point --data-root"));
  std::ofstream(d.path() / "readme.md") << "#";
  CHECK_THROWS_WITH(read_image_folder(d.path(), 0.2), Catch::Contains("holds no *.png, *.jpg or *.jpeg image"));
  if_write(d.path() / "one.png");
  CHECK_THROWS_WITH(read_image_folder(d.path(), 0.2), Catch::Contains("1 images give 1 train and 0 val at val_ratio 0.2"));
}
