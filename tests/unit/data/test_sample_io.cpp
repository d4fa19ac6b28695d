#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>

#include "data_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/sample_io.hpp"
#include "suite/data/transforms.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using clcp::test::TempDir;
namespace fs = std::filesystem;

namespace {
std::string record_error(const ImageRecord& r) {
  try {
    load_sample(r);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

ImageRecord record(const fs::path& dir, LabelEncoding enc = LabelEncoding::kTrainIds) {
  ImageRecord r;
  r.image = dir / "a_leftImg8bit.png";
  r.label = dir / "a_gtFine_label.png";
  r.encoding = enc;
  return r;
}
}  // namespace

TEST_CASE("load_sample decodes BGR images and maps labelIds to trainIds", "[data][sample_io]") {
  TempDir tmp;
  ImageRecord r = record(tmp.path(), LabelEncoding::kLabelIds);
  cv::Mat img(2, 3, CV_8UC3, cv::Scalar(10, 20, 30));  // B=10 G=20 R=30
  cv::imwrite(r.image.string(), img);
  cv::Mat lbl = (cv::Mat_<uint8_t>(2, 3) << 7, 26, 33, 1, 0, 23);
  cv::imwrite(r.label.string(), lbl);
  const LoadedSample s = load_sample(r);
  REQUIRE(s.image.type() == CV_8UC3);
  CHECK(s.image.at<cv::Vec3b>(1, 2) == cv::Vec3b(10, 20, 30));
  REQUIRE(s.label.type() == CV_8UC1);
  const cv::Mat expected = (cv::Mat_<uint8_t>(2, 3) << 0, 13, 18, 255, 255, 10);
  CHECK(cv::countNonZero(s.label != expected) == 0);

  r.encoding = LabelEncoding::kTrainIds;  // trainIds are passed through
  cv::imwrite(r.label.string(), expected);
  CHECK(cv::countNonZero(load_sample(r).label != expected) == 0);
}

TEST_CASE("load_sample turns bad files into one-line errors naming the file", "[data][sample_io]") {
  TempDir tmp;
  ImageRecord r = record(tmp.path());
  cv::imwrite(r.image.string(), cv::Mat(4, 6, CV_8UC3, cv::Scalar::all(5)));

  SECTION("corrupt PNG bytes") {
    clcp::test::write_bytes(r.label, "\x89PNG\r\n\x1a\n this is not a png");
    // libpng's own reason in parentheses (here: the bytes after the signature are no chunk).
    CHECK_THAT(record_error(r), Catch::StartsWith(r.label.string() + ": PNG does not decode (") &&
                                Catch::EndsWith("invalid chunk type); re-download or regenerate it"));
  }
  SECTION("missing file") {
    CHECK(record_error(r) == r.label.string() + ": file not found; re-download or regenerate it");
  }
  SECTION("label size differs from image") {
    cv::imwrite(r.label.string(), cv::Mat(4, 5, CV_8U, cv::Scalar(0)));
    CHECK_THAT(record_error(r), Catch::StartsWith(r.label.string() + ": label is 5x4 but image " + r.image.string() +
                                              " is 6x4;"));
  }
  SECTION("trainId 19") {
    cv::Mat l(4, 6, CV_8U, cv::Scalar(3));
    l.at<uint8_t>(2, 1) = 19;
    l.at<uint8_t>(3, 5) = 200;
    cv::imwrite(r.label.string(), l);
    CHECK_THAT(record_error(r), Catch::StartsWith(r.label.string() + ": label value 19 at pixel (x=1, y=2) is not a "
                                                                 "trainId (0–18 or 255)"));
  }
  SECTION("labelId 40") {
    r.encoding = LabelEncoding::kLabelIds;
    cv::Mat l(4, 6, CV_8U, cv::Scalar(7));
    l.at<uint8_t>(0, 4) = 40;
    cv::imwrite(r.label.string(), l);
    CHECK_THAT(record_error(r), Catch::StartsWith(r.label.string() + ": unknown labelId 40 at pixel (x=4, y=0)"));
  }
  SECTION("colour label") {
    cv::imwrite(r.label.string(), cv::Mat(4, 6, CV_8UC3, cv::Scalar::all(1)));
    CHECK_THAT(record_error(r), Catch::StartsWith(r.label.string() + ": label must be an 8-bit single-channel PNG, got "
                                                                 "8-bit with 3 channels"));
  }
}

TEST_CASE("the real Cityscapes frame reads through the labelIds fallback with the official mapping",
          "[data][realdata]") {
  const fs::path root = fs::path(CLCP_REALDATA_DIR) / "cityscapes";
  if (!fs::exists(root / "leftImg8bit/train")) {
    WARN("skipped: " << root.string() << " absent (real Cityscapes sample files)");
    return;
  }
  const Split s = read_cityscapes(root, "train");
  REQUIRE(s.records.size() == 1);
  const ImageRecord& r = s.records[0];
  CHECK(r.id == "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png");
  CHECK(r.encoding == LabelEncoding::kLabelIds);  // Cityscapes ships no labelTrainIds

  const LoadedSample sample = load_sample(r);
  CHECK(sample.image.cols == 2048);
  CHECK(sample.image.rows == 1024);
  CHECK(sample.image.type() == CV_8UC3);
  CHECK(sample.label.size() == sample.image.size());

  // trainId histogram == raw labelId histogram pushed through the table.
  const cv::Mat raw = cv::imread(r.label.string(), cv::IMREAD_UNCHANGED);
  REQUIRE(raw.type() == CV_8UC1);
  std::array<int64_t, 256> raw_hist{}, got{}, want{};
  for (auto it = raw.begin<uint8_t>(); it != raw.end<uint8_t>(); ++it) ++raw_hist[*it];
  for (auto it = sample.label.begin<uint8_t>(); it != sample.label.end<uint8_t>(); ++it) ++got[*it];
  std::vector<int> present;
  for (int v = 0; v < 256; ++v) {
    if (!raw_hist[v]) continue;
    present.push_back(v);
    want[label_id_to_train_id(v)] += raw_hist[v];
  }
  CHECK(present == std::vector<int>{0, 1, 3, 4, 7, 8, 11, 17, 20, 21, 22, 23, 24, 25, 26, 33});  // SOURCES.md
  CHECK(got == want);
  CHECK(got[0] > 0);    // road (labelId 7)
  CHECK(got[13] > 0);   // car (labelId 26)
  CHECK(got[18] > 0);   // bicycle (labelId 33)
  CHECK(got[255] == raw_hist[0] + raw_hist[1] + raw_hist[3] + raw_hist[4]);

  // The whole train pipeline on a real frame gives a full crop with valid labels.
  const TrainSample t = apply_train_pipeline(sample, TrainPipelineOptions{}, 7, 0, 0);
  CHECK(t.image.size() == cv::Size(224, 224));
  CHECK(t.label.size() == cv::Size(224, 224));
  double lo, hi;
  cv::Mat valid = t.label != 255;
  cv::minMaxLoc(t.label, &lo, &hi, nullptr, nullptr, valid);
  CHECK(hi <= 18);

  // The val split has labels but no images in the sample set: a clear error.
  if (!fs::exists(root / "leftImg8bit/val")) {
    try {
      read_cityscapes(root, "val");
      FAIL("expected an error");
    } catch (const UserError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith((root / "leftImg8bit/val").lexically_normal().string() +
                                             ": image split folder not found"));
    }
  }
}
