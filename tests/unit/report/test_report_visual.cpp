// The [visual] tier (hidden tag: CTest runs it only with CLCP_TEST_TIER=full, see ci/test.sh): the demo report as
// a user sees it. The HTML is opened in headless Chromium and screenshotted; the LaTeX is compiled with pdflatex and
// its pages rendered with pdftoppm. The images stay in <build>/visual/ for a person to look at. Needs the packages of
// ci/apt-packages-full.txt (chromium, texlive-latex-extra, texlive-pictures, poppler-utils).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fixtures.hpp"
#include "suite/report/render.hpp"

namespace fs = std::filesystem;

namespace {

int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string find_tool(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (sh(fmt::format("command -v {} > /dev/null 2>&1", n)) == 0) return n;
  return "";
}

struct Ink {
  double non_white = 0;  ///< share of pixels darker than 245 in some channel
  double coloured = 0;   ///< share of pixels with saturation > 60 (plot colours, not text)
};

Ink ink(const cv::Mat& bgr) {
  cv::Mat hsv;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  int64_t dark = 0, colour = 0;
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const auto p = bgr.at<cv::Vec3b>(y, x);
      if (p[0] < 245 || p[1] < 245 || p[2] < 245) ++dark;
      if (hsv.at<cv::Vec3b>(y, x)[1] > 60) ++colour;
    }
  const double n = static_cast<double>(bgr.total());
  return {dark / n, colour / n};
}

fs::path visual_dir() {
  const fs::path d = fs::current_path() / "visual";
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("the HTML report renders in headless Chromium with its tables and plots visible", "[.visual]") {
  const std::string chromium = find_tool({"chromium", "chromium-browser", "google-chrome"});
  if (chromium.empty()) FAIL("chromium not found; install ci/apt-packages-full.txt (the [visual] tier needs it)");
  const fs::path out = visual_dir();
  const auto d = fixtures::make_demo(fs::temp_directory_path() / "clcp_visual_demo");
  const auto model = clcp::build_report_model(d.bundles, fixtures::demo_options(d, "clcp-bench visual check"));
  const fs::path report = d.root / "report";
  clcp::write_report(model, report, {"html"});
  const std::string html = clcp::read_file(report / "report.html");
  CHECK(std::count(html.begin(), html.end(), '<') > 1000);
  CHECK(html.find("<svg") != std::string::npos);
  const fs::path png = out / "report_html.png";
  fs::remove(png);
  const int rc = sh(fmt::format("{} --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,4000 "
                                "--screenshot='{}' 'file://{}' > '{}' 2>&1",
                                chromium, png.string(), fs::absolute(report / "report.html").string(),
                                (out / "chromium.log").string()));
  REQUIRE(rc == 0);
  const cv::Mat img = cv::imread(png.string(), cv::IMREAD_COLOR);
  REQUIRE_FALSE(img.empty());
  CHECK(img.cols == 1280);
  CHECK(img.rows == 4000);
  const Ink k = ink(img);
  INFO("non-white " << k.non_white << ", coloured " << k.coloured);
  CHECK(k.non_white > 0.05);  // tables and plots, not a blank page
  CHECK(k.coloured > 0.005);  // the plots' colours are drawn
  fs::copy_file(report / "report.html", out / "report.html", fs::copy_options::overwrite_existing);
}

TEST_CASE("the LaTeX report compiles with pdflatex and its pages are not blank", "[.visual]") {
  if (find_tool({"pdflatex"}).empty() || find_tool({"pdftoppm"}).empty())
    FAIL("pdflatex or pdftoppm not found; install ci/apt-packages-full.txt (the [visual] tier needs them)");
  const fs::path out = visual_dir();
  const auto d = fixtures::make_demo(fs::temp_directory_path() / "clcp_visual_demo_tex");
  const auto model = clcp::build_report_model(d.bundles, fixtures::demo_options(d, "clcp-bench visual check"));
  const fs::path report = d.root / "report";
  clcp::write_report(model, report, {"latex"});
  const int rc = sh(fmt::format("cd '{}' && pdflatex -interaction=nonstopmode -halt-on-error report.tex > '{}' 2>&1",
                                report.string(), (out / "pdflatex.log").string()));
  INFO("see " << (out / "pdflatex.log").string());
  REQUIRE(rc == 0);
  REQUIRE(fs::exists(report / "report.pdf"));
  fs::copy_file(report / "report.pdf", out / "report.pdf", fs::copy_options::overwrite_existing);
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().filename().string().rfind("report_pdf-", 0) == 0) fs::remove(e.path());
  REQUIRE(sh(fmt::format("pdftoppm -r 70 -png '{}' '{}'", (report / "report.pdf").string(),
                         (out / "report_pdf").string())) == 0);
  int pages = 0;
  double most_colour = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().filename().string().rfind("report_pdf-", 0) != 0) continue;
    ++pages;
    const cv::Mat img = cv::imread(e.path().string(), cv::IMREAD_COLOR);
    REQUIRE_FALSE(img.empty());
    const Ink k = ink(img);
    INFO(e.path().filename().string() << ": non-white " << k.non_white);
    CHECK(k.non_white > 0.003);
    most_colour = std::max(most_colour, k.coloured);
  }
  CHECK(pages >= 3);            // tables, figures, runs
  CHECK(most_colour > 0.005);  // some page carries the pgfplots figures in colour
}
