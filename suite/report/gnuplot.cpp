#include "suite/report/gnuplot.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {

// Numbers in data files: NaN is gnuplot's "undefined" token, so the point is skipped.
std::string n(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "NaN"; }

// A double-quoted gnuplot string (noenhanced terminal, so only quotes and backslashes need escaping).
std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

double at(const std::vector<double>& v, size_t i, double fallback) { return i < v.size() ? v[i] : fallback; }

std::string range(const char* axis, const std::optional<double>& lo, const std::optional<double>& hi) {
  if (!lo && !hi) return "";
  return fmt::format("set {}range [{}:{}]\n", axis, lo ? n(*lo) : "*", hi ? n(*hi) : "*");
}

std::string header(const Figure& f, int w, int h) {
  std::string s = fmt::format(
      "set terminal svg size {},{} noenhanced font 'DejaVu Sans,11' background rgb 'white'\n"
      "set output 'figure.svg'\nset encoding utf8\nset title {}\nset xlabel {}\nset ylabel {}\n"
      "set grid lc rgb '#dddddd'\nset border 3\nset tics nomirror\n",
      w, h, q(f.title), q(f.xlabel), q(f.ylabel));
  return s;
}

GnuplotJob scatter(const Figure& f) {
  GnuplotJob job;
  job.script = header(f, 680, 480) + "set key outside right top\n" + range("x", f.xmin, f.xmax) +
               range("y", f.ymin, f.ymax);
  std::vector<std::string> plots;
  for (const double r : f.iso_lines) {
    plots.push_back(fmt::format("{}*x with lines dt 2 lw 1 lc rgb '#999999' notitle", n(r)));
    if (f.xmax && f.ymax) {  // label where the line leaves the plot
      const double x = std::min(*f.xmax, *f.ymax / r) * 0.96, y = r * x;
      job.script += fmt::format("set label {} at {},{} right offset 0,0.6 tc rgb '#777777' font ',9'\n",
                                q(fmt::format("rPD {}", n(r))), n(x), n(y));
    }
  }
  for (size_t k = 0; k < f.series.size(); ++k) {
    const Series& s = f.series[k];
    std::string data;
    for (size_t i = 0; i < s.y.size(); ++i)
      data += fmt::format("{} {} {} {} {} {}\n", n(s.x[i]), n(s.y[i]), n(at(s.x_lo, i, s.x[i])),
                          n(at(s.x_hi, i, s.x[i])), n(at(s.y_lo, i, s.y[i])), n(at(s.y_hi, i, s.y[i])));
    const std::string file = fmt::format("s{}.dat", k);
    job.files[file] = data;
    plots.push_back(fmt::format("'{}' using 1:2:3:4:5:6 with xyerrorbars pt {} ps 1.3 lw 1.5 lc {} title {}", file,
                                s.hollow ? 6 : 7, k + 1, q(s.label)));
  }
  job.script += "plot " + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  return job;
}

GnuplotJob lines(const Figure& f) {
  GnuplotJob job;
  job.script = header(f, 680, 380) + "set key outside right top\n" + range("x", f.xmin, f.xmax) +
               range("y", f.ymin, f.ymax);
  std::vector<std::string> plots;
  for (size_t k = 0; k < f.series.size(); ++k) {
    const Series& s = f.series[k];
    const bool bars = !s.y_lo.empty();
    std::string data;
    for (size_t i = 0; i < s.y.size(); ++i)
      data += fmt::format("{} {} {} {}\n", n(s.x[i]), n(s.y[i]), n(at(s.y_lo, i, s.y[i])), n(at(s.y_hi, i, s.y[i])));
    const std::string file = fmt::format("s{}.dat", k);
    job.files[file] = data;
    plots.push_back(bars ? fmt::format("'{}' using 1:2:3:4 with yerrorlines pt 7 lw 2 lc {} title {}", file, k + 1,
                                       q(s.label))
                         : fmt::format("'{}' using 1:2 with lines lw 1.5 lc {} title {}", file, k + 1, q(s.label)));
  }
  job.script += "plot " + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  return job;
}

GnuplotJob bars(const Figure& f) {
  GnuplotJob job;
  job.script = header(f, 720, 400) +
               "set key outside right top\nset style data histograms\n"
               "set style histogram errorbars gap 1.5 lw 1\nset style fill solid 0.85 border -1\n"
               "set boxwidth 0.9\nset grid noxtics\n" +
               range("y", f.ymin, f.ymax);
  std::string data;
  for (size_t c = 0; c < f.categories.size(); ++c) {
    data += q(f.categories[c]);
    for (const Series& s : f.series) {
      const double y = at(s.y, c, NAN);
      data += fmt::format(" {} {} {}", n(y), n(at(s.y_lo, c, y)), n(at(s.y_hi, c, y)));
    }
    data += "\n";
  }
  job.files["bars.dat"] = data;
  std::vector<std::string> plots;
  for (size_t k = 0; k < f.series.size(); ++k)
    plots.push_back(fmt::format("{} using {}:{}:{}{} lc {} title {}", k == 0 ? "'bars.dat'" : "''", 2 + 3 * k,
                                3 + 3 * k, 4 + 3 * k, k == 0 ? ":xtic(1)" : "", k + 1, q(f.series[k].label)));
  job.script += "plot " + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  return job;
}

GnuplotJob heatmap(const Figure& f) {
  GnuplotJob job;
  const int w = 220 + 34 * static_cast<int>(f.categories.size());
  const int h = 150 + 26 * static_cast<int>(f.rows.size());
  job.script = header(f, w, h) +
               fmt::format("unset grid\nset border 15\nset palette defined (0 '#f7fbff', 0.5 '#9ecae1', 1 '#4292c6')\n"
                           "set cbrange [{}:{}]\nset xrange [-0.5:{}]\nset yrange [{}:-0.5]\n"
                           "set xtics rotate by 45 right scale 0\nset ytics scale 0\nunset key\n",
                           n(f.zmin), n(f.zmax), n(f.categories.size() - 0.5), n(f.rows.size() - 0.5));
  std::string xt, yt;
  for (size_t c = 0; c < f.categories.size(); ++c) xt += fmt::format("{}{} {}", c ? ", " : "", q(f.categories[c]), c);
  for (size_t r = 0; r < f.rows.size(); ++r) yt += fmt::format("{}{} {}", r ? ", " : "", q(f.rows[r]), r);
  job.script += fmt::format("set xtics ({})\nset ytics ({})\n", xt, yt);
  // One "column row value" line per cell; blank cells are simply absent (drawn as background).
  std::string cells;
  for (size_t r = 0; r < f.rows.size(); ++r)
    for (size_t c = 0; c < f.categories.size(); ++c) {
      const double v = r < f.matrix.size() ? at(f.matrix[r], c, NAN) : NAN;
      if (std::isfinite(v)) cells += fmt::format("{} {} {}\n", c, r, n(v));
    }
  job.files["cells.dat"] = cells.empty() ? "0 0 NaN\n" : cells;
  job.script +=
      "plot 'cells.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fill solid 1.0 noborder lc palette, \\\n"
      "     '' using 1:2:(sprintf('%.0f', $3)) with labels font ',8' tc rgb '#222222'\n";
  return job;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

GnuplotJob gnuplot_job(const Figure& f) {
  switch (f.kind) {
    case FigureKind::Scatter: return scatter(f);
    case FigureKind::Lines: return lines(f);
    case FigureKind::Bars: return bars(f);
    case FigureKind::Heatmap: return heatmap(f);
  }
  return {};
}

std::string render_svg(const Figure& f) {
  static std::atomic<int> counter{0};
  const GnuplotJob job = gnuplot_job(f);
  const fs::path dir = fs::temp_directory_path() / fmt::format("clcp-gnuplot-{}-{}", ::getpid(), counter++);
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_atomic(dir / "figure.gp", job.script);
  for (const auto& [name, content] : job.files) write_atomic(dir / name, content);
  const char* env = std::getenv("CLCP_GNUPLOT");
  const std::string exe = env && *env ? env : "gnuplot";
  const int rc = std::system(fmt::format("cd '{}' && '{}' figure.gp > gnuplot.log 2>&1", dir.string(), exe).c_str());
  std::string log = fs::exists(dir / "gnuplot.log") ? read_file(dir / "gnuplot.log") : "";
  if (rc != 0 || !fs::exists(dir / "figure.svg")) {
    fs::remove_all(dir);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
      fail("{}: gnuplot not found; install gnuplot-nox (ci/apt-packages.txt) or set CLCP_GNUPLOT", exe);
    const auto nl = log.find('\n');
    fail("figure {}: gnuplot failed ({}); the script is gnuplot_job() of this figure", f.id,
         log.empty() ? fmt::format("exit {}", rc) : log.substr(0, nl));
  }
  std::string svg = read_file(dir / "figure.svg");
  fs::remove_all(dir);
  const auto start = svg.find("<svg");
  if (start == std::string::npos) fail("figure {}: gnuplot wrote no <svg> element", f.id);
  svg = svg.substr(start);
  svg = replace_all(svg, " xmlns=\"http://www.w3.org/2000/svg\"", "");
  svg = replace_all(svg, " xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "");
  svg = replace_all(svg, "\n xmlns=\"http://www.w3.org/2000/svg\"", "");
  svg = replace_all(svg, "\n xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "");
  svg = replace_all(svg, "<title>Gnuplot</title>", "<title>" + f.id + "</title>");
  const std::string p = f.id + "-";
  svg = replace_all(svg, "id='", "id='" + p);
  svg = replace_all(svg, "id=\"", "id=\"" + p);
  svg = replace_all(svg, "href='#", "href='#" + p);
  svg = replace_all(svg, "href=\"#", "href=\"#" + p);
  svg = replace_all(svg, "url(#", "url(#" + p);
  return svg;
}

}  // namespace clcp
