#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace fs = std::filesystem;

TEST_CASE("sha256 of 'abc' is the FIPS 180-2 test vector") {
  CHECK(clcp::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("atomic writes leave exactly the new content and no temp files") {
  const fs::path dir = fs::temp_directory_path() / "clcp_fsio_test";
  fs::remove_all(dir);
  clcp::write_atomic(dir / "a.txt", "first");
  clcp::write_atomic(dir / "a.txt", "second");
  CHECK(clcp::read_file(dir / "a.txt") == "second");
  int files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  CHECK(files == 1);
  CHECK(clcp::sha256_file(dir / "a.txt") == clcp::sha256_hex("second"));
  fs::remove_all(dir);
}

TEST_CASE("canonical JSON sorts keys so equal content hashes equally") {
  nlohmann::json a = {{"b", 1}, {"a", {{"y", 2}, {"x", 3}}}};
  nlohmann::json b = nlohmann::json::parse(R"({"a":{"x":3,"y":2},"b":1})");
  CHECK(clcp::canonical_json(a) == clcp::canonical_json(b));
}

TEST_CASE("reading a missing file is a one-line user error naming the file") {
  try {
    clcp::read_file("/nonexistent/dir/x.json");
    FAIL("expected an error");
  } catch (const clcp::UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("/nonexistent/dir/x.json") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}
