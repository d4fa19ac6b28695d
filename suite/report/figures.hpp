// A report figure as plain data, drawn by two established tools: gnuplot (SVG inlined into the HTML report,
// gnuplot.hpp) and pgfplots (TikZ code in the LaTeX report, pgfplots.hpp). The report builds Figures from its model
// (report_figures.hpp); neither backend computes anything, so the HTML and the PDF show the same numbers.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace clcp {

enum class FigureKind {
  Scatter,  ///< points with x and y error bars, plus dashed iso-lines y = r·x (rPD iso-lines)
  Lines,    ///< one line per series over a numeric x, optional y error bars
  Bars,     ///< grouped bars: categories on x, one bar per series, optional error bars
  Heatmap,  ///< rows × columns matrix of values in [zmin, zmax], missing cells left blank
};

/// One series. x, y are parallel; the bounds are empty or parallel to y (x_lo/x_hi only for Scatter). NaN means
/// "no value" and the point is skipped.
struct Series {
  std::string label;
  std::vector<double> x, y, y_lo, y_hi, x_lo, x_hi;
  bool hollow = false;  ///< drawn with open markers (published numbers next to ours)
};

struct Figure {
  std::string id;        ///< stable, [a-z0-9-], unique within a report (used for element ids and file names)
  std::string title, xlabel, ylabel, caption;
  FigureKind kind = FigureKind::Lines;
  std::vector<Series> series;
  std::vector<double> iso_lines;        ///< Scatter: slopes r of the dashed lines y = r·x, labelled "rPD r"
  std::vector<std::string> categories;  ///< Bars: x categories (one value per series each); Heatmap: columns
  std::vector<std::string> rows;        ///< Heatmap: row labels (top to bottom)
  std::vector<std::vector<double>> matrix;  ///< Heatmap: [rows][categories], NaN = blank cell
  double zmin = 0, zmax = 100;          ///< Heatmap colour range
  std::optional<double> xmin, xmax, ymin, ymax;  ///< fixed axis ranges (else the tool chooses)
  std::string omitted;                  ///< non-empty: the figure is not drawn; this note says why
};

}  // namespace clcp
