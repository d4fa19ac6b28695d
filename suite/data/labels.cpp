#include "suite/data/labels.hpp"

namespace clcp {

const std::array<std::string_view, kNumClasses> kClassNames = {
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
    "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"};

const std::array<std::array<uint8_t, 3>, kNumClasses> kPalette = {{
    {128, 64, 128}, {244, 35, 232}, {70, 70, 70}, {102, 102, 156}, {190, 153, 153}, {153, 153, 153}, {250, 170, 30},
    {220, 220, 0}, {107, 142, 35}, {152, 251, 152}, {70, 130, 180}, {220, 20, 60}, {255, 0, 0}, {0, 0, 142},
    {0, 0, 70}, {0, 60, 100}, {0, 80, 100}, {0, 0, 230}, {119, 11, 32}}};

namespace {
// Index = labelId 0..33; value = trainId (255 = ignored in evaluation).
constexpr std::array<uint8_t, 34> kLabelToTrain = {
    255, 255, 255, 255, 255, 255, 255, 0,   1,   255, 255, 2,   3,   4,   255, 255, 255,
    5,   255, 6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  255, 255, 16,  17,  18};
// trainId → labelId.
constexpr std::array<uint8_t, kNumClasses> kTrainToLabel = {7, 8, 11, 12, 13, 17, 19, 20, 21, 22,
                                                            23, 24, 25, 26, 27, 28, 31, 32, 33};
}  // namespace

int label_id_to_train_id(int label_id) {
  if (label_id == -1 || label_id == 255) return 255;
  if (label_id < 0 || label_id >= static_cast<int>(kLabelToTrain.size())) return -2;
  return kLabelToTrain[label_id];
}

const std::array<uint8_t, 256>& label_id_lut() {
  static const std::array<uint8_t, 256> lut = [] {
    std::array<uint8_t, 256> t{};
    t.fill(254);
    for (int i = 0; i < 256; ++i) {
      const int v = label_id_to_train_id(i);
      if (v >= 0) t[i] = static_cast<uint8_t>(v);
    }
    return t;
  }();
  return lut;
}

int train_id_to_label_id(int train_id) {
  if (train_id < 0 || train_id >= kNumClasses) return 0;
  return kTrainToLabel[train_id];
}

}  // namespace clcp
