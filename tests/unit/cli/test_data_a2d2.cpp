// `clcp-bench data synth` writes the embedded A2D2 pairs and `clcp-bench data check --dataset a2d2` reads them back as
// a user runs them: scenes, pairs, skipped files with reasons, the split and the manifest hash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

TEST_CASE("data synth writes A2D2 pairs that data check --dataset a2d2 lists with the split, skips and manifest",
          "[cli][a2d2]") {
  const fs::path out = fs::temp_directory_path() / "clcp_cli_a2d2";
  fs::remove_all(out);
  const auto synth = run_cli("data synth --out " + out.string() +
                             " --train-images 0 --val-images 0 --acdc-per-condition 0 --a2d2-scenes 2 --a2d2-frames 7"
                             " --a2d2-scale 0.2 --a2d2-conditions clear=1");
  INFO(synth.output);
  REQUIRE(synth.exit_code == 0);
  CHECK(synth.output.find("data synth: a2d2 14 pairs") != std::string::npos);
  // An empty lidar file the way A2D2 ships 15 of them: it is skipped and named, not a crash.
  const fs::path scene = out / "a2d2/camera_lidar_semantic/20200101_100100";
  fs::copy_file(scene / "camera/cam_front_center/20200101100100_camera_frontcenter_000000060.png",
                scene / "camera/cam_front_center/20200101100100_camera_frontcenter_000000070.png");
  const auto check = run_cli("data check --dataset a2d2 --data-root " + out.string());
  INFO(check.output);
  REQUIRE(check.exit_code == 0);
  const std::string& o = check.output;
  CHECK(o.find("a2d2: " + (out / "a2d2/camera_lidar_semantic").string() + " (front_center 384x242, Telecam lens") !=
        std::string::npos);
  CHECK(o.find("scenes: 2\n") != std::string::npos);
  CHECK(o.find("  20200101_100000: 7 pairs (train 6, val 1)\n") != std::string::npos);
  CHECK(o.find("pairs: 14 (train 12, val 2; the last floor(n*0.15) pairs of each scene are val)\n") != std::string::npos);
  CHECK(o.find("skipped: 1\n  20200101_100100/camera/cam_front_center/20200101100100_camera_frontcenter_000000070.png: "
               "camera image without lidar file") != std::string::npos);
  CHECK(o.find("manifest ") != std::string::npos);
  // The same data, the same hash; another val_ratio, another hash; out of range: clamped with a warning.
  CHECK(run_cli("data check --dataset a2d2 --data-root " + out.string()).output == o);
  const auto half = run_cli("data check --dataset a2d2 --val-ratio 0.9 --data-root " +
                            (out / "a2d2/camera_lidar_semantic").string());
  CHECK(half.exit_code == 0);
  CHECK(half.output.find("warning: val_ratio 0.9 is outside [0, 0.5]; using 0.5") != std::string::npos);
  CHECK(half.output.find("pairs: 14 (train 8, val 6;") != std::string::npos);
  // A missing calibration is one line.
  fs::rename(out / "a2d2/cams_lidars.json", out / "a2d2/moved.json");
  const auto bad = run_cli("data check --dataset a2d2 --data-root " + out.string());
  CHECK(bad.exit_code != 0);
  CHECK(bad.output.find("no cams_lidars.json (looked at") != std::string::npos);
  const auto given = run_cli("data check --dataset a2d2 --data-root " + out.string() + " --cams-lidars " +
                             (out / "a2d2/moved.json").string());
  CHECK(given.exit_code == 0);
  fs::remove_all(out);
}
