// Writes a Figure as pgfplots code (a tikzpicture with one axis) for the LaTeX report, the LaTeX-native way: the
// document needs \usepackage{pgfplots} with \pgfplotsset{compat=1.18} (Debian texlive-pictures) and compiles with
// pdflatex. Data are inline coordinates; long curves are thinned to at most kMaxCurvePoints points so TeX's memory
// suffices at full scale (80 000 iterations).
#pragma once
#include <string>

#include "suite/report/figures.hpp"

namespace clcp {

inline constexpr size_t kMaxCurvePoints = 200;

/// TeX-escapes `s` (& % $ # _ { } ~ ^ \).
std::string tex_escape(const std::string& s);
/// "\begin{tikzpicture}…\end{tikzpicture}" for `f`; "" if f.omitted is set.
std::string render_pgfplots(const Figure& f);

}  // namespace clcp
