#include "suite/data/a2d2_labels.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <system_error>

#include "suite/core/error.hpp"

namespace fs = std::filesystem;

namespace clcp {

namespace {

constexpr uint8_t kUnknownColour = 254;  // not a trainId (0–18) nor ignore (255)

}  // namespace

const std::vector<A2D2Class>& a2d2_classes() {
  // A2D2's class_list.json (camera_lidar_semantic, 55 classes, in the file's order) with the trainId of each: the
  // mapping documented in a2d2_labels.hpp. 255 = ignore.
  static const std::vector<A2D2Class> classes = {
      {0xff0000, "Car 1", 13},
      {0xc80000, "Car 2", 13},
      {0x960000, "Car 3", 13},
      {0x800000, "Car 4", 13},
      {0xb65906, "Bicycle 1", 18},
      {0x963204, "Bicycle 2", 18},
      {0x5a1e01, "Bicycle 3", 18},
      {0x5a1e1e, "Bicycle 4", 18},
      {0xcc99ff, "Pedestrian 1", 11},
      {0xbd499b, "Pedestrian 2", 11},
      {0xef59bf, "Pedestrian 3", 11},
      {0xff8000, "Truck 1", 14},
      {0xc88000, "Truck 2", 14},
      {0x968000, "Truck 3", 14},
      {0x00ff00, "Small vehicles 1", 17},
      {0x00c800, "Small vehicles 2", 17},
      {0x009600, "Small vehicles 3", 17},
      {0x0080ff, "Traffic signal 1", 6},
      {0x1e1c9e, "Traffic signal 2", 6},
      {0x3c1c64, "Traffic signal 3", 6},
      {0x00ffff, "Traffic sign 1", 7},
      {0x1edcdc, "Traffic sign 2", 7},
      {0x3c9dc7, "Traffic sign 3", 7},
      {0xffff00, "Utility vehicle 1", 255},
      {0xffffc8, "Utility vehicle 2", 255},
      {0xe96400, "Sidebars", 255},
      {0x6e6e00, "Speed bumper", 0},
      {0x808000, "Curbstone", 1},
      {0xffc125, "Solid line", 0},
      {0x400040, "Irrelevant signs", 255},
      {0xb97a57, "Road blocks", 255},
      {0x000064, "Tractor", 255},
      {0x8b636c, "Non-drivable street", 255},
      {0xd23273, "Zebra crossing", 0},
      {0xff0080, "Obstacles / trash", 255},
      {0xfff68f, "Poles", 5},
      {0x960096, "RD restricted area", 0},
      {0xccff99, "Animals", 255},
      {0xeea2ad, "Grid structure", 4},
      {0x212cb1, "Signal corpus", 6},
      {0xb432b4, "Drivable cobblestone", 0},
      {0xff46b9, "Electronic traffic", 7},
      {0xeee9bf, "Slow drive area", 0},
      {0x93fdc2, "Nature object", 8},
      {0x9696c8, "Parking area", 255},
      {0xb496c8, "Sidewalk", 1},
      {0x48d1cc, "Ego car", 255},
      {0xc87dd2, "Painted driv. instr.", 0},
      {0x9f79ee, "Traffic guide obj.", 255},
      {0x8000ff, "Dashed line", 0},
      {0xff00ff, "RD normal street", 0},
      {0x87ceff, "Sky", 10},
      {0xf1e6ff, "Buildings", 2},
      {0x60458f, "Blurred area", 255},
      {0x352e52, "Rain dirt", 255},
  };
  return classes;
}

std::optional<uint8_t> a2d2_class_train_id(std::string_view name) {
  for (const auto& c : a2d2_classes())
    if (c.name == name) return c.train_id;
  return std::nullopt;
}

std::string a2d2_colour_hex(uint32_t rgb) { return fmt::format("#{:06x}", rgb & 0xffffffu); }

fs::path a2d2_label_path(const fs::path& camera_png) {
  std::string stem = camera_png.filename().string();
  if (const auto pos = stem.find("_camera_"); pos != std::string::npos) stem.replace(pos, 8, "_label_");
  // <scene>/camera/cam_front_center/<file> → <scene>/label/cam_front_center/<file with _label_>
  const fs::path sensor = camera_png.parent_path().filename();
  return camera_png.parent_path().parent_path().parent_path() / "label" / sensor / stem;
}

fs::path find_a2d2_class_list(const fs::path& root) {
  std::error_code ec;
  for (const fs::path& p : {root / "class_list.json", root.parent_path() / "class_list.json"})
    if (fs::is_regular_file(p, ec)) return p;
  fail("no class_list.json in {} or {}; the A2D2 labels need it (A2D2's download has it beside cams_lidars.json; "
       "`clcp-bench data synth` writes it into camera_lidar_semantic/)",
       root.string(), root.parent_path().string());
}

A2D2LabelDecoder::A2D2LabelDecoder(const fs::path& file) : source_(file), lut_(size_t{1} << 24, kUnknownColour) {
  nlohmann::json j;
  {
    std::ifstream in(file);
    if (!in) fail("{}: cannot open the A2D2 class list; check the path and its permissions", file.string());
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON ({}); re-download class_list.json", file.string(), e.what());
    }
  }
  if (!j.is_object() || j.empty())
    fail("{}: expected an object {{\"#rrggbb\": \"class name\", …}} (A2D2's class_list.json); re-download it",
         file.string());
  for (const auto& [key, value] : j.items()) {
    uint32_t rgb = 0;
    bool ok = key.size() == 7 && key[0] == '#';
    for (size_t i = 1; ok && i < 7; ++i) {
      const char c = key[i];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      ok = d >= 0;
      rgb = rgb * 16 + static_cast<uint32_t>(d < 0 ? 0 : d);
    }
    if (!ok) fail("{}: key \"{}\" is not a colour \"#rrggbb\"; re-download class_list.json", file.string(), key);
    if (!value.is_string()) fail("{}: the class of \"{}\" is not a string; re-download class_list.json", file.string(), key);
    const auto id = a2d2_class_train_id(value.get<std::string>());
    if (!id)
      fail("{}: class \"{}\" (colour {}) is not one of A2D2's 55 classes, so it has no Cityscapes mapping "
           "(suite/data/a2d2_labels.hpp); use A2D2's class_list.json",
           file.string(), value.get<std::string>(), key);
    lut_[rgb] = *id;
  }
}

cv::Mat1b A2D2LabelDecoder::decode(const fs::path& png) const {
  std::error_code ec;
  if (!fs::is_regular_file(png, ec))
    fail("{}: no label PNG for this A2D2 camera frame; the supervised method needs A2D2's label/cam_front_center "
         "folder (download camera_lidar_semantic with its labels, or re-render the embedded data with `clcp-bench "
         "data synth`)",
         png.string());
  cv::Mat img;
  try {
    img = cv::imread(png.string(), cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    img.release();
  }
  if (img.empty()) fail("{}: the label PNG does not decode; re-download or regenerate it", png.string());
  return decode(img, png.string());
}

cv::Mat1b A2D2LabelDecoder::decode(const cv::Mat& bgr, std::string_view label) const {
  if (bgr.type() != CV_8UC3)
    fail("{}: an A2D2 label must be an 8-bit RGB PNG (got {} channel(s), depth code {}); use A2D2's label PNGs", label,
         bgr.channels(), bgr.depth());
  cv::Mat1b out(bgr.rows, bgr.cols);
  for (int v = 0; v < bgr.rows; ++v) {
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(v);
    uint8_t* o = out.ptr<uint8_t>(v);
    for (int u = 0; u < bgr.cols; ++u) {
      const uint32_t rgb = (uint32_t{p[u][2]} << 16) | (uint32_t{p[u][1]} << 8) | uint32_t{p[u][0]};
      const uint8_t id = lut_[rgb];
      if (id == kUnknownColour)
        fail("{}: pixel (x {}, y {}) has colour {}, which {} does not list; use the class_list.json of the data set "
             "the labels come from",
             label, u, v, a2d2_colour_hex(rgb), source_.string());
      o[u] = id;
    }
  }
  return out;
}

}  // namespace clcp
