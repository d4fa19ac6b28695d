#include "suite/report/pgfplots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace clcp {

namespace {

std::string pgf_num(double v) { return fmt::format("{:.6g}", v); }
double pgf_at(const std::vector<double>& v, size_t i, double fallback) { return i < v.size() ? v[i] : fallback; }

// Indices to draw: all finite points, thinned evenly (first and last kept) to at most kMaxCurvePoints.
std::vector<size_t> points_of(const Series& s, bool thin) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < s.y.size(); ++i)
    if (std::isfinite(s.y[i]) && (s.x.size() <= i || std::isfinite(s.x[i]))) idx.push_back(i);
  if (!thin || idx.size() <= kMaxCurvePoints) return idx;
  std::vector<size_t> out;
  const double step = static_cast<double>(idx.size() - 1) / (kMaxCurvePoints - 1);
  for (size_t k = 0; k < kMaxCurvePoints; ++k) out.push_back(idx[static_cast<size_t>(std::llround(k * step))]);
  return out;
}

std::string axis_common(const Figure& f) {
  std::string s = fmt::format("title={{{}}}, xlabel={{{}}}, ylabel={{{}}}", tex_escape(f.title), tex_escape(f.xlabel),
                              tex_escape(f.ylabel));
  if (f.xmin) s += fmt::format(", xmin={}", pgf_num(*f.xmin));
  if (f.xmax) s += fmt::format(", xmax={}", pgf_num(*f.xmax));
  if (f.ymin) s += fmt::format(", ymin={}", pgf_num(*f.ymin));
  if (f.ymax) s += fmt::format(", ymax={}", pgf_num(*f.ymax));
  return s;
}

const char* kLegend = "legend style={font=\\footnotesize}, legend pos=outer north east, legend cell align=left";

// "(x,y) += (ex+,ey+) -= (ex-,ey-)" with explicit asymmetric error bars.
std::string errcoord(double x, double y, double xlo, double xhi, double ylo, double yhi) {
  return fmt::format("({},{}) += ({},{}) -= ({},{})", pgf_num(x), pgf_num(y), pgf_num(xhi - x), pgf_num(yhi - y),
                     pgf_num(x - xlo), pgf_num(y - ylo));
}

std::string pgf_scatter(const Figure& f) {
  std::string s = fmt::format("\\begin{{axis}}[width=0.62\\linewidth, height=0.55\\linewidth, grid=major, {}, {}]\n",
                              axis_common(f), kLegend);
  const double x0 = f.xmin.value_or(0), x1 = f.xmax.value_or(100);
  for (const double r : f.iso_lines) {
    s += fmt::format("\\addplot[gray, dashed, domain={}:{}, samples=2, forget plot] {{{}*x}};\n", pgf_num(x0),
                     pgf_num(x1), pgf_num(r));
    if (f.xmax && f.ymax) {
      const double x = std::min(*f.xmax, *f.ymax / r) * 0.96;
      s += fmt::format("\\node[gray, font=\\scriptsize, anchor=south east] at (axis cs:{},{}) {{rPD {}}};\n",
                       pgf_num(x), pgf_num(r * x), pgf_num(r));
    }
  }
  for (const Series& se : f.series) {
    const auto idx = points_of(se, false);
    if (idx.empty()) continue;
    s += fmt::format("\\addplot+[only marks, mark={}, error bars/.cd, x dir=both, x explicit, y dir=both, "
                     "y explicit] coordinates {{",
                     se.hollow ? "o" : "*");
    for (size_t i : idx)
      s += " " + errcoord(se.x[i], se.y[i], pgf_at(se.x_lo, i, se.x[i]), pgf_at(se.x_hi, i, se.x[i]),
                          pgf_at(se.y_lo, i, se.y[i]), pgf_at(se.y_hi, i, se.y[i]));
    s += fmt::format(" }};\n\\addlegendentry{{{}}}\n", tex_escape(se.label));
  }
  return s + "\\end{axis}\n";
}

std::string pgf_lines(const Figure& f) {
  std::string s = fmt::format("\\begin{{axis}}[width=0.7\\linewidth, height=0.42\\linewidth, grid=major, {}, {}]\n",
                              axis_common(f), kLegend);
  for (const Series& se : f.series) {
    const bool bars = !se.y_lo.empty();
    const auto idx = points_of(se, !bars);
    if (idx.empty()) continue;
    s += bars ? "\\addplot+[mark=*, error bars/.cd, y dir=both, y explicit] coordinates {"
              : "\\addplot+[mark=none, thick] coordinates {";
    for (size_t i : idx)
      s += " " + (bars ? errcoord(se.x[i], se.y[i], se.x[i], se.x[i], pgf_at(se.y_lo, i, se.y[i]),
                                  pgf_at(se.y_hi, i, se.y[i]))
                       : fmt::format("({},{})", pgf_num(se.x[i]), pgf_num(se.y[i])));
    s += fmt::format(" }};\n\\addlegendentry{{{}}}\n", tex_escape(se.label));
  }
  return s + "\\end{axis}\n";
}

std::string pgf_bars(const Figure& f) {
  std::string ticks, labels;
  for (size_t c = 0; c < f.categories.size(); ++c) {
    ticks += fmt::format("{}{}", c ? "," : "", c);
    labels += fmt::format("{}{{{}}}", c ? "," : "", tex_escape(f.categories[c]));
  }
  const double bar_pt = std::max(2.0, std::min(10.0, 60.0 / std::max<size_t>(1, f.series.size())));
  std::string s = fmt::format(
      "\\begin{{axis}}[width=0.75\\linewidth, height=0.42\\linewidth, ybar, bar width={}pt, xtick={{{}}}, "
      "xticklabels={{{}}}, enlarge x limits=0.15, ymajorgrids, {}, {}]\n",
      pgf_num(bar_pt), ticks, labels, axis_common(f), kLegend);
  for (const Series& se : f.series) {
    s += "\\addplot+[error bars/.cd, y dir=both, y explicit] coordinates {";
    for (size_t c = 0; c < f.categories.size(); ++c) {
      const double y = pgf_at(se.y, c, NAN);
      if (!std::isfinite(y)) continue;
      const double lo = pgf_at(se.y_lo, c, y), hi = pgf_at(se.y_hi, c, y);
      s += " " + errcoord(static_cast<double>(c), y, c, c, std::isfinite(lo) ? lo : y, std::isfinite(hi) ? hi : y);
    }
    s += fmt::format(" }};\n\\addlegendentry{{{}}}\n", tex_escape(se.label));
  }
  return s + "\\end{axis}\n";
}

std::string pgf_heatmap(const Figure& f) {
  std::string xt, xl, yt, yl;
  for (size_t c = 0; c < f.categories.size(); ++c) {
    xt += fmt::format("{}{}", c ? "," : "", c);
    xl += fmt::format("{}{{{}}}", c ? "," : "", tex_escape(f.categories[c]));
  }
  for (size_t r = 0; r < f.rows.size(); ++r) {
    yt += fmt::format("{}{}", r ? "," : "", r);
    yl += fmt::format("{}{{{}}}", r ? "," : "", tex_escape(f.rows[r]));
  }
  std::string s = fmt::format(
      "\\begin{{axis}}[x=0.55cm, y=0.55cm, title={{{}}}, xmin=-0.5, xmax={}, ymin=-0.5, ymax={}, y dir=reverse, "
      "enlargelimits=false, axis on top, xtick={{{}}}, xticklabels={{{}}}, ytick={{{}}}, yticklabels={{{}}}, "
      "x tick label style={{rotate=45, anchor=north east, font=\\scriptsize}}, y tick label style={{font=\\scriptsize}}, "
      "tick style={{draw=none}}, colormap={{blues}}{{rgb255(0cm)=(247,251,255); rgb255(1cm)=(158,202,225); "
      "rgb255(2cm)=(66,146,198)}}, colorbar, point meta min={}, point meta max={}]\n",
      tex_escape(f.title), pgf_num(f.categories.size() - 0.5), pgf_num(f.rows.size() - 0.5), xt, xl, yt, yl,
      pgf_num(f.zmin), pgf_num(f.zmax));
  std::string coords;
  for (size_t r = 0; r < f.rows.size(); ++r)
    for (size_t c = 0; c < f.categories.size(); ++c) {
      const double v = r < f.matrix.size() ? pgf_at(f.matrix[r], c, NAN) : NAN;
      if (std::isfinite(v)) coords += fmt::format(" ({},{}) [{}]", c, r, pgf_num(v));
    }
  if (!coords.empty())
    s += "\\addplot[scatter, only marks, mark=square*, mark size=0.275cm, point meta=explicit, "
         "scatter/use mapped color={draw=mapped color, fill=mapped color}, "
         "nodes near coords={\\pgfmathprintnumber[fixed, precision=0]{\\pgfplotspointmeta}}, "
         "nodes near coords align=center, every node near coord/.append style={font=\\tiny, black}] coordinates {" +
         coords + " };\n";
  return s + "\\end{axis}\n";
}

}  // namespace

std::string tex_escape(const std::string& s) {
  std::string out;
  for (char c : s) switch (c) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      default: out += c;
    }
  return out;
}

std::string render_pgfplots(const Figure& f) {
  if (!f.omitted.empty()) return "";
  std::string body;
  switch (f.kind) {
    case FigureKind::Scatter: body = pgf_scatter(f); break;
    case FigureKind::Lines: body = pgf_lines(f); break;
    case FigureKind::Bars: body = pgf_bars(f); break;
    case FigureKind::Heatmap: body = pgf_heatmap(f); break;
  }
  return "\\begin{tikzpicture}\n" + body + "\\end{tikzpicture}\n";
}

}  // namespace clcp
