// A2D2's colour-coded semantic labels (suite/data/a2d2_labels.hpp): decoded through class_list.json to Cityscapes
// trainIds on a hand-made PNG and on the genuine sample, A2D2's class list reproduced byte for byte, one-line errors
// for a missing label and an unknown colour, and the embedded renderer's labels aligned with its camera PNGs.
#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "data_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/a2d2_labels.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/synth/a2d2_rig.hpp"
#include "suite/data/synth/a2d2_synth.hpp"
#include "suite/data/synth/synth.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

const fs::path kRealA2D2 = fs::path(CLCP_REALDATA_DIR) / "a2d2";

std::string label_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

cv::Vec3b bgr(uint32_t rgb) {
  return {static_cast<uint8_t>(rgb & 0xff), static_cast<uint8_t>((rgb >> 8) & 0xff), static_cast<uint8_t>(rgb >> 16)};
}

}  // namespace

TEST_CASE("a hand-made 4x4 A2D2 label decodes to the Cityscapes trainIds of its classes", "[data][a2d2][labels]") {
  clcp::test::TempDir tmp;
  write_atomic(tmp.path() / "class_list.json", synth::a2d2_class_list_text());
  // rows: road, markings and curb; sky and building; car, pedestrian, bicycle, truck; ego car, blurred, pole, sign
  const uint32_t colours[4][4] = {{0xff00ff, 0xffc125, 0x8000ff, 0x808000},
                                  {0x87ceff, 0x87ceff, 0xf1e6ff, 0x93fdc2},
                                  {0xff0000, 0xcc99ff, 0xb65906, 0xff8000},
                                  {0x48d1cc, 0x60458f, 0xfff68f, 0x00ffff}};
  const uint8_t want[4][4] = {{0, 0, 0, 1}, {10, 10, 2, 8}, {13, 11, 18, 14}, {255, 255, 5, 7}};
  cv::Mat3b img(4, 4);
  for (int v = 0; v < 4; ++v)
    for (int u = 0; u < 4; ++u) img(v, u) = bgr(colours[v][u]);
  const fs::path png = tmp.path() / "s/label/cam_front_center/20200101100000_label_frontcenter_000000000.png";
  fs::create_directories(png.parent_path());
  REQUIRE(cv::imwrite(png.string(), img));
  const A2D2LabelDecoder dec(find_a2d2_class_list(tmp.path() / "s"));  // one level up, as in the download
  const cv::Mat1b ids = dec.decode(png);
  for (int v = 0; v < 4; ++v)
    for (int u = 0; u < 4; ++u) CHECK(static_cast<int>(ids(v, u)) == static_cast<int>(want[v][u]));
  CHECK(a2d2_label_path(tmp.path() / "s/camera/cam_front_center/20200101100000_camera_frontcenter_000000000.png") ==
        png);

  // an unknown colour: one line naming the file, the pixel, its colour and the class list
  img(2, 1) = bgr(0x123456);
  REQUIRE(cv::imwrite(png.string(), img));
  CHECK(label_error([&] { dec.decode(png); }) ==
        png.string() + ": pixel (x 1, y 2) has colour #123456, which " + (tmp.path() / "class_list.json").string() +
            " does not list; use the class_list.json of the data set the labels come from");
  // a missing label names the file and the fix
  const fs::path missing = tmp.path() / "s/label/cam_front_center/nothing.png";
  CHECK(label_error([&] { dec.decode(missing); }) ==
        missing.string() + ": no label PNG for this A2D2 camera frame; the supervised method needs A2D2's "
                           "label/cam_front_center folder (download camera_lidar_semantic with its labels, or "
                           "re-render the embedded data with `clcp-bench data synth`)");
  // a class list with a class that is not A2D2's
  write_atomic(tmp.path() / "bad.json", R"({"#010203": "Spaceship"})");
  CHECK_THAT(label_error([&] { A2D2LabelDecoder{tmp.path() / "bad.json"}; }),
             Catch::Contains("class \"Spaceship\" (colour #010203) is not one of A2D2's 55 classes"));
  CHECK_THAT(label_error([&] { find_a2d2_class_list(tmp.path() / "nowhere/x"); }),
             Catch::StartsWith("no class_list.json in"));
}

TEST_CASE("the genuine A2D2 label decodes with every colour known, road and sky present", "[data][a2d2][labels]") {
  const fs::path list = kRealA2D2 / "class_list.json";
  const fs::path png = kRealA2D2 / "camera_lidar_semantic/20181107_133258/label/cam_front_center/"
                                   "20181107133258_label_frontcenter_000000250.png";
  if (!fs::exists(list) || !fs::exists(png)) {
    WARN("skipped: the real A2D2 label sample is absent (" << png.string() << ")");
    return;
  }
  // the renderer's class_list.json is A2D2's, byte for byte
  std::ifstream in(list, std::ios::binary);
  const std::string real((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(real == synth::a2d2_class_list_text());
  const A2D2LabelDecoder dec(list);
  const cv::Mat1b ids = dec.decode(png);  // throws on an unknown colour
  CHECK(ids.cols == 1920);
  CHECK(ids.rows == 1208);
  std::array<int64_t, 256> hist{};
  for (int v = 0; v < ids.rows; ++v)
    for (int u = 0; u < ids.cols; ++u) ++hist[ids(v, u)];
  CHECK(hist[0] > 100000);  // road
  CHECK(hist[10] > 10000);  // sky
  int64_t other = 0;
  for (int k = 19; k < 255; ++k) other += hist[static_cast<size_t>(k)];
  CHECK(other == 0);
  int classes = 0;
  for (int k = 0; k < 19; ++k) classes += hist[static_cast<size_t>(k)] > 0;
  WARN("real A2D2 label: " << classes << " Cityscapes classes, road " << hist[0] << ", sky " << hist[10]
                           << ", ignored " << hist[255] << " pixels");
}

TEST_CASE("the embedded A2D2 labels decode to the render's trainIds where A2D2 has the class, aligned with the camera",
          "[data][a2d2][labels][synth]") {
  const A2D2Camera cam = synth::a2d2_camera(0.1);
  const auto warp = synth::distortion_warp(cam);
  synth::A2D2SynthOptions o;
  const auto f = synth::render_a2d2_frame(3, 0, 1, synth::Condition::kClear, 1.0, o, cam, warp);
  REQUIRE(f.distorted_label_id.size() == f.distorted_bgr.size());
  clcp::test::TempDir tmp;
  write_atomic(tmp.path() / "class_list.json", synth::a2d2_class_list_text());
  const A2D2LabelDecoder dec(tmp.path() / "class_list.json");
  const cv::Mat1b ids = dec.decode(synth::a2d2_label_bgr(f.distorted_label_id), "synth");
  const auto& lut = label_id_lut();
  int64_t same = 0, dropped = 0, total = 0;
  for (int v = 0; v < ids.rows; ++v)
    for (int u = 0; u < ids.cols; ++u) {
      const uint8_t want = lut[f.distorted_label_id(v, u)];
      ++total;
      if (ids(v, u) == want) ++same;
      else if (ids(v, u) == 255 && (want == 3 || want == 9 || want == 12 || want == 15 || want == 16)) ++dropped;
    }
  CHECK(same + dropped == total);  // only wall, terrain, rider, bus, train (no A2D2 class) become ignore
  CHECK(same > total / 2);
  // aligned: the nearest-warped label equals the undistorted label at the rounded source coordinate
  for (int v = 0; v < ids.rows; v += 7)
    for (int u = 0; u < ids.cols; u += 7) {
      const int x = static_cast<int>(std::lround(warp.map_x(v, u))), y = static_cast<int>(std::lround(warp.map_y(v, u)));
      if (x < 0 || y < 0 || x >= cam.width || y >= cam.height) continue;
      CHECK(f.distorted_label_id(v, u) == f.label_id(y, x));
    }
}
