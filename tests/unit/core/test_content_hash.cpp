// XXH3-128 content hashes (libxxhash) and the hash cache keyed by file identity.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "suite/core/content_hash.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash_cache.hpp"
#include "support/run_command.hpp"

namespace fs = std::filesystem;
using namespace clcp;

namespace {
fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("clcp_hash_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("XXH3-128 of known strings is xxHash's own digest") {
  // The digests `printf '' | xxh128sum` and `printf abc | xxh128sum` print (xxHash 0.8.1).
  CHECK(xxh128_hex("") == "99aa06d3014798d86001c324468d497f");
  CHECK(xxh128_hex("abc") == "06b05ab6733a618578af5f94892f3950");
}

TEST_CASE("a file's XXH3-128 equals what xxh128sum prints, streamed across block boundaries") {
  const fs::path d = fresh("file");
  std::string bytes(3 * (1 << 20) + 12345, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  write_atomic(d / "blob.bin", bytes);
  uint64_t n = 0;
  const std::string h = xxh128_file(d / "blob.bin", &n);
  CHECK(n == bytes.size());
  CHECK(h == xxh128_hex(bytes));
  const auto tool = clcp::test::run_command("xxh128sum " + (d / "blob.bin").string());
  if (tool.exit_code != 0) {
    WARN("xxh128sum (Debian package xxhash) not installed; compared with the in-memory digest only");
  } else {
    // The last line is "<digest>  <file>" (xxh128sum may print progress before it).
    std::string last = tool.output.substr(0, tool.output.find_last_not_of('\n') + 1);
    last = last.substr(last.find_last_of("\r\n") + 1);
    CHECK(last == h + "  " + (d / "blob.bin").string());
  }
  CHECK_THROWS_AS(xxh128_file(d / "missing.bin"), UserError);
  fs::remove_all(d);
}

TEST_CASE("the hash cache answers unchanged files from the cache and re-hashes changed ones") {
  const fs::path d = fresh("cache");
  write_atomic(d / "a.png", "first content");
  // Files changed in the last 2 s are not cached (a same-tick rewrite could keep size, mtime and ctime).
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  {
    HashCache c(d / "cache.json");
    CHECK(c.file_hash(d / "a.png") == xxh128_hex("first content"));
    CHECK(c.misses() == 1);
    CHECK(c.file_hash(d / "a.png") == xxh128_hex("first content"));
    CHECK(c.hits() == 1);
    CHECK(c.save().empty());
  }
  HashCache again(d / "cache.json");  // a later process
  CHECK(again.file_hash(d / "a.png") == xxh128_hex("first content"));
  CHECK(again.hits() == 1);
  CHECK(again.misses() == 0);

  // Same size, different bytes, old mtime put back (touch -r): ctime still moves, so the file is hashed again.
  struct stat st {};
  REQUIRE(::stat((d / "a.png").c_str(), &st) == 0);
  write_atomic(d / "a.png", "FIRST content");
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, (d / "a.png").c_str(), times, 0) == 0);
  CHECK(again.file_hash(d / "a.png") == xxh128_hex("FIRST content"));
  CHECK(again.misses() == 1);

  // A damaged cache file is only a cache: everything is hashed again.
  write_atomic(d / "cache.json", "{not json");
  HashCache damaged(d / "cache.json");
  CHECK(damaged.file_hash(d / "a.png") == xxh128_hex("FIRST content"));
  CHECK(damaged.misses() == 1);
  fs::remove_all(d);
}
