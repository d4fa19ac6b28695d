#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/report/gnuplot.hpp"
#include "suite/report/pgfplots.hpp"
#include "suite/report/report_figures.hpp"

namespace fs = std::filesystem;

namespace {
bool figure_has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool gnuplot_available() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

clcp::Figure scatter_figure() {
  clcp::Figure f;
  f.id = "t-scatter";
  f.kind = clcp::FigureKind::Scatter;
  f.title = "source vs target";
  f.xmin = f.ymin = 0;
  f.xmax = f.ymax = 80;
  f.iso_lines = {0.5};
  clcp::Series s;
  s.label = "my_init (fb)";
  s.x = {60};
  s.y = {30};
  s.x_lo = {59};
  s.x_hi = {61};
  s.y_lo = {28};
  s.y_hi = {31};
  f.series.push_back(s);
  return f;
}
}  // namespace

TEST_CASE("the scatter script draws rPD iso-lines and x/y error bars from the series") {
  const auto job = clcp::gnuplot_job(scatter_figure());
  CHECK(figure_has(job.script, "0.5*x with lines dt 2"));
  // The iso-line label sits where y = 0.5·x leaves the plot: x = min(80, 80/0.5)·0.96 = 76.8.
  CHECK(figure_has(job.script, "set label \"rPD 0.5\" at 76.8,38.4"));
  CHECK(figure_has(job.script, "with xyerrorbars"));
  CHECK(figure_has(job.script, "title \"my_init (fb)\""));
  CHECK(figure_has(job.script, "noenhanced"));  // underscores stay underscores
  CHECK(job.files.at("s0.dat") == "60 30 59 61 28 31\n");
}

TEST_CASE("bar data hold y, low and high per series and category, NaN where a value is missing") {
  clcp::Figure f;
  f.id = "t-bars";
  f.kind = clcp::FigureKind::Bars;
  f.categories = {"fog", "night"};
  clcp::Series s;
  s.label = "a";
  s.y = {30, NAN};
  s.y_lo = {29, NAN};
  s.y_hi = {32, NAN};
  f.series.push_back(s);
  const auto job = clcp::gnuplot_job(f);
  CHECK(job.files.at("bars.dat") == "\"fog\" 30 29 32\n\"night\" NaN NaN NaN\n");
  CHECK(figure_has(job.script, "set style histogram errorbars"));
  CHECK(figure_has(job.script, "'bars.dat' using 2:3:4:xtic(1)"));
}

TEST_CASE("heat-map cells without a value are left out rather than drawn as zero") {
  clcp::Figure f;
  f.id = "t-heat";
  f.kind = clcp::FigureKind::Heatmap;
  f.categories = {"road", "train"};
  f.rows = {"a"};
  f.matrix = {{97.5, NAN}};
  CHECK(clcp::gnuplot_job(f).files.at("cells.dat") == "0 0 97.5\n");
  const std::string tikz = clcp::render_pgfplots(f);
  CHECK(figure_has(tikz, "(0,0) [97.5]"));
  CHECK_FALSE(figure_has(tikz, "(1,0)"));
}

TEST_CASE("pgfplots curves are thinned to at most 200 points, keeping the first and the last") {
  clcp::Figure f;
  f.id = "t-loss";
  f.kind = clcp::FigureKind::Lines;
  clcp::Series s;
  s.label = "x_1";
  for (int i = 1; i <= 1000; ++i) {
    s.x.push_back(i * 10);
    s.y.push_back(1.0 / i);
  }
  f.series.push_back(s);
  const std::string tikz = clcp::render_pgfplots(f);
  CHECK(std::count(tikz.begin(), tikz.end(), '(') == 200);
  CHECK(figure_has(tikz, "(10,1)"));
  CHECK(figure_has(tikz, "(10000,0.001)"));
  CHECK(figure_has(tikz, "\\addlegendentry{x\\_1}"));
}

TEST_CASE("pgfplots error bars are explicit and asymmetric around the mean") {
  const std::string tikz = clcp::render_pgfplots(scatter_figure());
  CHECK(figure_has(tikz, "(60,30) += (1,1) -= (1,2)"));
  CHECK(figure_has(tikz, "{0.5*x}"));
  CHECK(figure_has(tikz, "\\begin{tikzpicture}"));
}

TEST_CASE("report figures: no CLCP cell omits the epoch plot with a note, error bars fall back to ± sd") {
  const fs::path root = fs::temp_directory_path() / "clcp_figures_model";
  fs::remove_all(root);
  std::vector<fs::path> b;
  for (int s = 0; s < 2; ++s) b.push_back(fixtures::make_bundle(root, {"random", "full", s, 0.5 + 0.02 * s, 0.25}));
  auto model = clcp::build_report_model(b, "t");
  const auto figs = clcp::comparison_figures(model, 0);
  REQUIRE(figs.size() == 7);
  CHECK(figs[0].id == "c0-scatter");
  CHECK(figs[0].series.at(0).x.at(0) == Approx(51.0));
  CHECK(figure_has(figs[1].omitted, "no CLCP cells"));
  CHECK(figs[2].series.at(0).y.at(0) == Approx(3.0 - 0.6 - 0.005));  // mean loss at iteration 6 over seeds 0, 1
  CHECK(figs[6].matrix.at(0).at(16) != figs[6].matrix.at(0).at(16));  // train: NaN
  clcp::Stat st;
  st.mean = 50;
  st.sd = 2;
  st.n = 2;
  CHECK(clcp::error_bar(st) == std::pair<double, double>{48, 52});
  fs::remove_all(root);
}

TEST_CASE("gnuplot draws an SVG that can be inlined: no XML prolog, no namespace URL, ids prefixed") {
  if (!gnuplot_available()) {
    WARN("skipped: gnuplot not installed (apt gnuplot-nox, ci/apt-packages.txt)");
    return;
  }
  const std::string svg = clcp::render_svg(scatter_figure());
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK_FALSE(figure_has(svg, "<?xml"));
  CHECK_FALSE(figure_has(svg, "http"));
  CHECK(figure_has(svg, "id='t-scatter-gpPt0'"));
  CHECK(figure_has(svg, "my_init (fb)"));
  CHECK(svg == clcp::render_svg(scatter_figure()));  // deterministic
}

TEST_CASE("a missing gnuplot is one actionable line") {
  setenv("CLCP_GNUPLOT", "/nonexistent/gnuplot", 1);
  CHECK_THROWS_WITH(clcp::render_svg(scatter_figure()), Catch::Contains("install gnuplot-nox"));
  unsetenv("CLCP_GNUPLOT");
}
