#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "suite/train/progress.hpp"

using namespace clcp;

namespace {
std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}
}  // namespace

TEST_CASE("eta text uses seconds, minutes and hours", "[train]") {
  CHECK(format_eta(10) == "10s");
  CHECK(format_eta(62) == "1m02s");
  CHECK(format_eta(7500) == "2h05m");
  CHECK(format_eta(-1) == "?");
}

TEST_CASE("progress line renders the finetune and eval formats", "[train]") {
  ProgressLine ft("finetune", 500, nullptr, false);
  CHECK(ft.render(120, {{"loss", "1.234"}, {"lr", "9.1e-03"}}, 6.1, 62) ==
        "finetune 120/500 | loss 1.234 | lr 9.1e-03 | 6.1 img/s | ETA 1m02s");
  ProgressLine ev("eval cityscapes/val", 24, nullptr, false);
  CHECK(ev.render(12, {}, 1.3, 10) == "eval cityscapes/val 12/24 | 1.3 img/s | ETA 10s");
}

TEST_CASE("progress line prints plain lines every N percent when not a terminal", "[train]") {
  std::FILE* f = std::tmpfile();
  {
    ProgressLine p("eval x", 100, f, false, 25);
    for (int i = 1; i <= 100; ++i) p.update(i, {}, 1.0, 0);
  }
  const std::string s = slurp(f);
  std::fclose(f);
  CHECK(s.find('\r') == std::string::npos);
  // lines at 1 (start), 25, 50, 75, 100
  CHECK(std::count(s.begin(), s.end(), '\n') == 5);
  CHECK(s.find("eval x 75/100 |") != std::string::npos);
}

TEST_CASE("progress line redraws one line with carriage returns on a terminal", "[train]") {
  std::FILE* f = std::tmpfile();
  {
    ProgressLine p("finetune", 3, f, true);
    for (int i = 1; i <= 3; ++i) p.update(i, {{"loss", "1.000"}}, 2.0, 1);
  }
  const std::string s = slurp(f);
  std::fclose(f);
  CHECK(std::count(s.begin(), s.end(), '\r') == 3);
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);  // only at finish
}
