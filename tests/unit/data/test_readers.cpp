#include <catch2/catch.hpp>

#include "data_test_util.hpp"
#include "suite/core/error.hpp"
#include "suite/data/acdc.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/core/content_hash.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash_cache.hpp"
#include "suite/data/manifest.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

using namespace clcp;
using clcp::test::TempDir;
using clcp::test::write_image;
using clcp::test::write_label;
namespace fs = std::filesystem;

namespace {
// Cityscapes frame <city>_<n>: image + label (labelTrainIds unless ids == true).
void add_frame(const fs::path& root, const std::string& split, const std::string& city, const std::string& n,
               bool ids = false) {
  const std::string stem = city + "_" + n;
  write_image(root / "leftImg8bit" / split / city / (stem + "_leftImg8bit.png"));
  write_label(root / "gtFine" / split / city / (stem + (ids ? "_gtFine_labelIds.png" : "_gtFine_labelTrainIds.png")));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the Cityscapes reader pairs images with labels sorted by image path", "[data][cityscapes]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "cityscapes";
  add_frame(root, "train", "zurich", "000001_000019");
  add_frame(root, "train", "aachen", "000002_000019", /*ids=*/true);
  add_frame(root, "train", "aachen", "000001_000019");
  // Noise that must be ignored: other gtFine products and a stray non-PNG.
  write_label(root / "gtFine/train/aachen/aachen_000001_000019_gtFine_instanceIds.png");
  write_label(root / "gtFine/train/aachen/aachen_000001_000019_gtFine_color.png");
  clcp::test::write_bytes(root / "leftImg8bit/train/readme.txt", "x");

  const Split s = read_cityscapes(root, "train");
  CHECK(s.dataset == "cityscapes");
  CHECK(s.name == "train");
  REQUIRE(s.records.size() == 3);
  CHECK(s.records[0].id == "leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.png");
  CHECK(s.records[1].id == "leftImg8bit/train/aachen/aachen_000002_000019_leftImg8bit.png");
  CHECK(s.records[2].id == "leftImg8bit/train/zurich/zurich_000001_000019_leftImg8bit.png");
  CHECK(s.records[0].encoding == LabelEncoding::kTrainIds);
  CHECK(s.records[1].encoding == LabelEncoding::kLabelIds);  // labelIds fallback
  CHECK(s.records[1].label.filename() == "aachen_000002_000019_gtFine_labelIds.png");
  CHECK(s.records[0].label == root / "gtFine/train/aachen/aachen_000001_000019_gtFine_labelTrainIds.png");
  CHECK(s.records[0].image.is_absolute());
  CHECK(s.records[0].condition.empty());

  // labelTrainIds wins when both exist.
  write_label(root / "gtFine/train/zurich/zurich_000001_000019_gtFine_labelIds.png");
  CHECK(read_cityscapes(root, "train").records[2].encoding == LabelEncoding::kTrainIds);
}

TEST_CASE("the Cityscapes reader names what is missing in one line", "[data][cityscapes]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "cityscapes";

  CHECK(error_of([&] { read_cityscapes(root, "train"); }) ==
        root.string() +
            ": Cityscapes root not found; pass --data-root DIR whose cityscapes/ holds leftImg8bit/ and gtFine/");

  add_frame(root, "train", "aachen", "000001_000019");
  CHECK_THAT(error_of([&] { read_cityscapes(root, "val"); }),
             Catch::StartsWith((root / "leftImg8bit/val").string() + ": image split folder not found;"));

  fs::create_directories(root / "leftImg8bit/test");
  fs::create_directories(root / "gtFine/test");
  CHECK_THAT(error_of([&] { read_cityscapes(root, "test"); }),
             Catch::StartsWith((root / "leftImg8bit/test").string() + ": split 'test' holds no *_leftImg8bit.png"));

  write_image(root / "leftImg8bit/train/bonn/bonn_000000_000001_leftImg8bit.png");
  const std::string no_label = error_of([&] { read_cityscapes(root, "train"); });
  CHECK_THAT(no_label, Catch::StartsWith((root / "leftImg8bit/train/bonn/bonn_000000_000001_leftImg8bit.png").string() +
                                         ": image has no label, expected " +
                                         (root / "gtFine/train/bonn/bonn_000000_000001_gtFine_labelTrainIds.png").string()));
  CHECK(no_label.find('\n') == std::string::npos);
  fs::remove(root / "leftImg8bit/train/bonn/bonn_000000_000001_leftImg8bit.png");

  write_label(root / "gtFine/train/aachen/aachen_000009_000019_gtFine_labelIds.png");
  CHECK_THAT(error_of([&] { read_cityscapes(root, "train"); }),
             Catch::StartsWith((root / "gtFine/train/aachen/aachen_000009_000019_gtFine_labelIds.png").string() +
                               ": label has no image, expected " +
                               (root / "leftImg8bit/train/aachen/aachen_000009_000019_leftImg8bit.png").string()));
}

TEST_CASE("the ACDC reader tags conditions and ignores the reference folders", "[data][acdc]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "acdc";
  auto add = [&](const std::string& cond, const std::string& seq, const std::string& frame, bool ids = false) {
    const std::string stem = seq + "_frame_" + frame;
    write_image(root / "rgb_anon" / cond / "val" / seq / (stem + "_rgb_anon.png"));
    write_label(root / "gt" / cond / "val" / seq / (stem + (ids ? "_gt_labelIds.png" : "_gt_labelTrainIds.png")));
  };
  add("snow", "GOPR0122", "000001");
  add("fog", "GOPR0475", "000002", /*ids=*/true);
  add("fog", "GOPR0475", "000001");
  add("night", "GOPR0351", "000001");
  add("rain", "GOPR0400", "000001");
  // Reference images: their own folder and their own suffix; never read.
  write_image(root / "rgb_anon/fog/val_ref/GOPR0475/GOPR0475_frame_000001_rgb_ref_anon.png");
  write_image(root / "rgb_anon/fog/val_ref/GOPR0475/GOPR0475_frame_000009_rgb_anon.png");

  const Split s = read_acdc(root, "val");
  CHECK(s.dataset == "acdc");
  REQUIRE(s.records.size() == 5);
  CHECK(s.records[0].id == "rgb_anon/fog/val/GOPR0475/GOPR0475_frame_000001_rgb_anon.png");
  CHECK(s.records[0].condition == "fog");
  CHECK(s.records[1].condition == "fog");
  CHECK(s.records[1].encoding == LabelEncoding::kLabelIds);
  CHECK(s.records[2].condition == "night");
  CHECK(s.records[3].condition == "rain");
  CHECK(s.records[4].condition == "snow");
  CHECK(s.records[4].label == root / "gt/snow/val/GOPR0122/GOPR0122_frame_000001_gt_labelTrainIds.png");

  const Split night = read_acdc(root, "val", {"night"});
  REQUIRE(night.records.size() == 1);
  CHECK(night.records[0].condition == "night");

  CHECK_THAT(error_of([&] { read_acdc(root, "train"); }),
             Catch::StartsWith((root / "rgb_anon/fog/train").string() + ": image split folder not found;"));
  CHECK_THAT(error_of([&] { read_acdc(tmp.path() / "nope", "val"); }),
             Catch::EndsWith(": ACDC root not found; pass --data-root DIR whose acdc/ holds rgb_anon/ and gt/"));
  fs::remove(root / "gt/rain/val/GOPR0400/GOPR0400_frame_000001_gt_labelTrainIds.png");
  CHECK_THAT(error_of([&] { read_acdc(root, "val"); }), Catch::Contains("image has no label, expected"));
}

TEST_CASE("the split manifest lists relative paths and sizes and hashes the file list", "[data][manifest]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "cityscapes";
  add_frame(root, "val", "lindau", "000000_000019");
  add_frame(root, "val", "frankfurt", "000000_000294", true);
  const Split s = read_cityscapes(root, "val");
  const nlohmann::json m = split_manifest(s);
  CHECK(m["dataset"] == "cityscapes");
  CHECK(m["split"] == "val");
  CHECK(m["count"] == 2);
  REQUIRE(m["files"].size() == 2);
  CHECK(m["files"][0]["image"] == "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png");
  CHECK(m["files"][0]["label"] == "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png");
  CHECK(m["files"][0]["image_bytes"] == fs::file_size(s.records[0].image));
  CHECK(m["files"][1]["label_bytes"] == fs::file_size(s.records[1].label));
  CHECK(m["hash"] == sha256_hex(canonical_json(m["files"])));
  CHECK(manifest_hash(s) == m["hash"]);

  CHECK(m["files"][0]["image_xxh128"] == xxh128_file(s.records[0].image));
  CHECK(m["files"][1]["label_xxh128"] == xxh128_file(s.records[1].label));

  // A changed file (different size) changes the hash.
  write_image(s.records[1].image, 32, 8);
  CHECK(manifest_hash(read_cityscapes(root, "val")) != m["hash"]);
}

TEST_CASE("the manifest hash covers file contents, not just names and sizes", "[data][manifest]") {
  TempDir tmp;
  const fs::path root = tmp.path() / "cityscapes";
  add_frame(root, "train", "aachen", "000000_000019");
  const Split s = read_cityscapes(root, "train");
  HashCache cache(tmp.path() / "cache.json");
  const std::string before = manifest_hash(s, cache);
  // The same bytes count, one byte different (a relabelled pixel would do this): another manifest hash.
  std::string label = read_file(s.records[0].label);
  label[label.size() / 2] ^= 1;
  write_atomic(s.records[0].label, label);
  CHECK(fs::file_size(s.records[0].label) == label.size());
  CHECK(manifest_hash(s, cache) != before);
}
