// A2D2 semantic labels (camera_lidar_semantic/<scene>/label/cam_front_center/…): the colour-coded label PNGs and
// their mapping onto Cityscapes trainIds, for the `supervised` pretraining method (the A2D2 frames are disjoint from
// every Cityscapes/ACDC evaluation split). Real files: ../shared/realdata/SOURCES.md §2.
//
// Layout: the label of camera PNG ROOT/<scene>/camera/cam_front_center/<s>_camera_frontcenter_<frame>.png is
//   ROOT/<scene>/label/cam_front_center/<s>_label_frontcenter_<frame>.png — an 8-bit RGB PNG of the camera's size,
//   aligned pixel for pixel with the camera PNG (the recorded, distorted image); each colour is one class of
//   class_list.json ({"#rrggbb": "Car 1", …}, 55 entries), which lies in ROOT (where `data synth` writes it) or in
//   ROOT/.. (where the A2D2 download puts it, beside cams_lidars.json).
//
// The class mapping (a recorded decision; source: A2D2's class_list.json names and the class definitions of
// Cityscapes, cityscapesScripts labels.py / the Cityscapes website): each A2D2 class goes to the Cityscapes class that
// covers it, else to 255 (ignore):
//   Car 1–4 → car; Pedestrian 1–3 → person; Truck 1–3 → truck; Bicycle 1–4 → bicycle (A2D2 has no rider class);
//   Small vehicles 1–3 (motorbikes, scooters) → motorcycle; Traffic signal 1–3 and Signal corpus (the housing; a
//   Cityscapes traffic light is the box without its pole) → traffic light; Traffic sign 1–3 and Electronic traffic →
//   traffic sign; Poles → pole; Grid structure → fence; Buildings → building; Nature object → vegetation; Sky → sky;
//   Sidewalk and Curbstone (Cityscapes counts curbs as sidewalk) → sidewalk; RD normal street, RD restricted area,
//   Drivable cobblestone, Slow drive area, Speed bumper, Zebra crossing, Solid line, Dashed line, Painted driv. instr.
//   (Cityscapes' road includes its markings) → road.
//   Ignored (255): Utility vehicle 1–2 (between car, truck and bus in Cityscapes' terms), Tractor, Animals,
//   Sidebars (guard rail, itself ignored by Cityscapes' trainIds), Parking area and Non-drivable street (Cityscapes'
//   parking/ground, ignored), Ego car (ego vehicle, ignored), Road blocks, Traffic guide obj., Obstacles / trash,
//   Irrelevant signs, Blurred area, Rain dirt.
//   Cityscapes classes without an A2D2 counterpart: wall, terrain, rider, bus, train (never a target).
#pragma once
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clcp {

struct A2D2Class {
  uint32_t rgb;           ///< 0xRRGGBB, as class_list.json's "#rrggbb"
  std::string_view name;  ///< A2D2's class name
  uint8_t train_id;       ///< Cityscapes trainId 0–18, or 255 (ignore)
};

/// A2D2's 55 classes in class_list.json's order, each with its trainId (the mapping above).
const std::vector<A2D2Class>& a2d2_classes();
/// The trainId of an A2D2 class name (exact, case-sensitive); nullopt for a name that is not A2D2's.
std::optional<uint8_t> a2d2_class_train_id(std::string_view name);
/// "#rrggbb" (lower case, as class_list.json).
std::string a2d2_colour_hex(uint32_t rgb);

/// The label PNG of a camera PNG (see the layout above); the path only, no check that it exists.
std::filesystem::path a2d2_label_path(const std::filesystem::path& camera_png);

/// class_list.json for an A2D2 root: ROOT/class_list.json, else ROOT/../class_list.json. UserError listing both
/// places when neither exists.
std::filesystem::path find_a2d2_class_list(const std::filesystem::path& root);

/// Decodes label PNGs to trainIds through a class_list.json.
class A2D2LabelDecoder {
 public:
  /// Reads class_list.json; UserError (one line naming the file) when it does not parse, a key is not "#rrggbb", or a
  /// class name is not one of A2D2's.
  explicit A2D2LabelDecoder(const std::filesystem::path& class_list_json);
  /// trainIds (H×W uint8, 0–18 or 255) of a label PNG. UserError naming the file: missing ("no label PNG …; the
  /// supervised method needs A2D2's label/ folder …"), not decodable, not 8-bit 3-channel, or holding a colour that
  /// class_list.json does not list (naming the pixel and its colour).
  cv::Mat1b decode(const std::filesystem::path& label_png) const;
  /// The same for an image already in memory (BGR, CV_8UC3); `label` names it in errors.
  cv::Mat1b decode(const cv::Mat& bgr, std::string_view label) const;
  const std::filesystem::path& source() const { return source_; }

 private:
  std::filesystem::path source_;
  std::vector<uint8_t> lut_;  ///< 2^24 entries indexed by 0xRRGGBB; kUnknown for colours not listed
};

}  // namespace clcp
