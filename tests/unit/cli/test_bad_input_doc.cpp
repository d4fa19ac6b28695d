// The bad-input matrix (tests/bad-input.md, linked from the README) stays true: every test it names exists, and its
// one-line cases that need no data print exactly their line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;

TEST_CASE("every test the bad-input matrix names exists") {
  const fs::path root = fs::path(CLCP_SOURCE_DIR) / "tests";
  std::istringstream doc(clcp::read_file(root / "bad-input.md"));
  const std::regex cited("`([a-z]+): ([^`]+)`");
  int rows = 0, cited_tests = 0;
  for (std::string line; std::getline(doc, line);) {
    if (!std::regex_search(line, std::regex(R"(^\| [0-9]+ \|)"))) continue;
    ++rows;
    const std::string last = line.substr(line.rfind(" | ") + 3);
    for (std::sregex_iterator it(last.begin(), last.end(), cited), end; it != end; ++it) {
      const std::string stage = (*it)[1], name = (*it)[2];
      INFO("row " << rows << ": " << stage << ": " << name);
      bool found = false;
      for (const auto& e : fs::directory_iterator(root / "unit" / stage))
        if (e.path().extension() == ".cpp" &&
            clcp::read_file(e.path()).find("TEST_CASE(\"" + name + "\"") != std::string::npos)
          found = true;
      CHECK(found);
      ++cited_tests;
    }
  }
  CHECK(rows >= 43);
  CHECK(cited_tests >= rows);
}

TEST_CASE("the bad-input matrix's one-line cases print exactly their line") {
  const std::string out = " --out " + (fs::temp_directory_path() / "clcp_matrix_out").string();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"run --protocol dg_acdc --scale ci --finetune half" + out, "--finetune half: expected 'full' or 'frozen'"},
      {"run --protocol dg_acdc --scale ci --device tpu" + out, "--device tpu: expected 'cpu' or 'cuda'"},
      {"report --format pdf " + fs::temp_directory_path().string(),
       "--format pdf: unknown report format; use html, latex (or tex), md, csv, json"},
  };
  for (const auto& [args, line] : cases) {
    const auto r = clcp::test::run_cli(args);
    INFO(args);
    CHECK(r.exit_code == 2);
    CHECK(r.output == "clcp-bench: error: " + line + "\n");
  }
  const auto cuda = clcp::test::run_cli("run --protocol dg_acdc --scale ci --device cuda" + out);
  if (cuda.exit_code == 2) {
    CHECK(cuda.output == "clcp-bench: error: --device cuda: no CUDA device is visible to LibTorch; use --device cpu "
                         "or check the driver\n");
  } else {
    WARN("a CUDA device is visible here; the --device cuda refusal is checked on machines without one");
  }
}
