#include <catch2/catch.hpp>

#include "suite/data/labels.hpp"

using namespace clcp;

TEST_CASE("labelId to trainId follows the cityscapesScripts table on known entries", "[data][labels]") {
  CHECK(label_id_to_train_id(7) == 0);     // road
  CHECK(label_id_to_train_id(8) == 1);     // sidewalk
  CHECK(label_id_to_train_id(26) == 13);   // car
  CHECK(label_id_to_train_id(31) == 16);   // train
  CHECK(label_id_to_train_id(33) == 18);   // bicycle
  CHECK(label_id_to_train_id(1) == 255);   // ego vehicle
  CHECK(label_id_to_train_id(9) == 255);   // parking
  CHECK(label_id_to_train_id(-1) == 255);  // license plate
  CHECK(label_id_to_train_id(34) == -2);   // not a labelId
  const auto& lut = label_id_lut();
  CHECK(lut[7] == 0);
  CHECK(lut[26] == 13);
  CHECK(lut[33] == 18);
  CHECK(lut[0] == 255);
  CHECK(lut[34] == 254);  // invalid marker
  CHECK(lut[40] == 254);
}

TEST_CASE("every trainId maps back to a labelId that maps to it", "[data][labels]") {
  for (int t = 0; t < kNumClasses; ++t) CHECK(label_id_to_train_id(train_id_to_label_id(t)) == t);
}
