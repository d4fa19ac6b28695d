// The 19 Cityscapes evaluation classes (trainIds 0..18, ignore_index 255), their names and palette, and the official
// labelId → trainId table (cityscapesScripts helpers/labels.py; mmseg_reference.md §3). ACDC uses the same classes.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace clcp {

inline constexpr int kNumClasses = 19;
inline constexpr uint8_t kIgnoreIndex = 255;

/// Class names in trainId order ("road", "sidewalk", …, "bicycle").
extern const std::array<std::string_view, kNumClasses> kClassNames;
/// Palette in trainId order, RGB.
extern const std::array<std::array<uint8_t, 3>, kNumClasses> kPalette;

/// labelId (0..33) → trainId (0..18, or 255 for classes ignored in evaluation). -1 (license plate) → 255.
/// Returns -2 for values that are not Cityscapes labelIds (34..254, 255 is "unlabeled" in some tools → 255).
int label_id_to_train_id(int label_id);
/// The 256-entry lookup table used to map a labelIds PNG; entries that are not labelIds hold 254 (an invalid marker).
const std::array<uint8_t, 256>& label_id_lut();
/// trainId → a representative labelId (e.g. 0 → 7 road), for writing labelIds PNGs. 255 → 0 (unlabeled).
int train_id_to_label_id(int train_id);

}  // namespace clcp
