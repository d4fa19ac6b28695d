// Write failures on a full disk (a 64 KiB tmpfs): the first failing write is named with the bytes wanted and the
// system's reason, the temp file is removed, the old content stays, and a torn appended line is taken back.
#include <catch2/catch.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "support/small_tmpfs.hpp"

namespace fs = std::filesystem;
using namespace clcp;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
size_t entries(const fs::path& d) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++n;
  return n;
}
}  // namespace

TEST_CASE("a write that does not fit names the file, the bytes and the reason, and leaves no temp file") {
  clcp::test::SmallTmpfs disk("fsio", "64k");
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a tmpfs here (" << disk.why_not() << "); CI runs as root and mounts one");
    return;
  }
  const fs::path f = disk.path() / "metrics.json";
  write_atomic(f, "old");
  const std::string line = error_of([&] { write_atomic(f, std::string(1 << 20, 'x')); });
  CHECK_THAT(line, Catch::StartsWith(f.string() + ": cannot write 1048576 bytes (write after "));
  CHECK_THAT(line, Catch::Contains("No space left on device); free space on that disk or choose another --out"));
  CHECK(read_file(f) == "old");
  CHECK(entries(disk.path()) == 1);  // only metrics.json: the temp file is gone

  // An appended line that does not fit is truncated away again: the log holds whole lines only.
  const fs::path log = disk.path() / "train_log.jsonl";
  append_line(log, R"({"iter":1})");
  const std::string append_error = error_of([&] { append_line(log, std::string(1 << 20, 'y')); });
  CHECK_THAT(append_error, Catch::StartsWith(log.string() + ": cannot write 1048577 bytes (append"));
  CHECK(read_file(log) == "{\"iter\":1}\n");
}

TEST_CASE("an output path that is a file is named as a file, not as an unwritable folder") {
  const fs::path dir = fs::temp_directory_path() / ("clcp_out_file_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write_atomic(dir / "results", "I am a file");
  CHECK(error_of([&] { ensure_writable_dir(dir / "results"); }) ==
        (dir / "results").string() + ": exists and is a file, not a folder; choose another --out (or move the file "
                                     "away)");
  CHECK(error_of([&] { ensure_writable_dir(dir / "results" / "dg_acdc"); }) ==
        (dir / "results" / "dg_acdc").string() + ": cannot create the folder: " + (dir / "results").string() +
            " is a file, not a folder; choose another --out");
  fs::remove_all(dir);
}
