// Bad input stops with one line naming the file or key, what was expected and what to do, and a non-zero exit.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A copy of the small synthetic data set that a test may damage.
fs::path damaged_copy(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("clcp_bad_" + name);
  fs::remove_all(dir);
  fs::copy(clcp::test::small_synth_root(), dir, fs::copy_options::recursive);
  return dir;
}

fs::path first_file(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) found.push_back(e.path());
  std::sort(found.begin(), found.end());
  REQUIRE(!found.empty());
  return found.front();
}

std::string run_on(const fs::path& root) {
  const auto r = run_cli("run --protocol dg_acdc --scale ci --data-root " + root.string() + " --out " +
                         (root / "results").string());
  CHECK(r.exit_code != 0);
  return r.output;
}
}  // namespace

TEST_CASE("an unknown protocol names the protocols that exist") {
  const auto r = run_cli("run --protocol dg_acdcx --scale ci");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown protocol 'dg_acdcx'") != std::string::npos);
  CHECK(r.output.find("dg_acdc") != std::string::npos);
  CHECK(lines(r.output) == 1);
}

TEST_CASE("an unknown scale names the scales the protocol has") {
  const auto r = run_cli("run --protocol dg_acdc --scale huge");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown scale 'huge'") != std::string::npos);
}

TEST_CASE("a missing dataset root is one line that says what to pass") {
  const auto r = run_cli("run --protocol dg_acdc --scale ci --data-root /nonexistent/data --out /tmp/clcp_x");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/nonexistent/data") != std::string::npos);
  CHECK(r.output.find("--data-root") != std::string::npos);
}

TEST_CASE("a missing weights file for --init is refused before anything runs") {
  const auto r = run_cli("run --protocol dg_acdc --scale ci --init /nonexistent/vit.safetensors --out /tmp/clcp_x");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/nonexistent/vit.safetensors") != std::string::npos);
  CHECK(r.output.find("random") != std::string::npos);
}

TEST_CASE("an image without its label names the image and the expected label file") {
  const fs::path root = damaged_copy("nolabel");
  const fs::path label = first_file(root / "cityscapes/gtFine/val", "_gtFine_labelTrainIds.png");
  fs::remove(label);
  fs::remove(fs::path(label.string().replace(label.string().find("labelTrainIds"), 13, "labelIds")));
  const auto out = run_on(root);
  CHECK(out.find("image has no label") != std::string::npos);
  CHECK(out.find(label.filename().string()) != std::string::npos);
}

TEST_CASE("a PNG that does not decode is named") {
  const fs::path root = damaged_copy("corrupt");
  // A train image fails at the first batch that draws it, before any evaluation.
  const fs::path img = first_file(root / "cityscapes/leftImg8bit/train", "_leftImg8bit.png");
  std::ofstream(img, std::ios::binary | std::ios::trunc) << "not a png";
  const auto out = run_on(root);
  CHECK(out.find(img.filename().string()) != std::string::npos);
  CHECK(out.find("does not decode") != std::string::npos);
}

TEST_CASE("an unwritable output folder is refused with the folder's name") {
  const auto r = run_cli("run --protocol dg_acdc --scale ci --data-root " + clcp::test::small_synth_root().string() +
                         " --out /proc/clcp_results");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/proc/clcp_results") != std::string::npos);
}
