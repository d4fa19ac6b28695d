// Draws a Figure with gnuplot (Debian gnuplot-nox, `set terminal svg`): the script and its data files are generated
// here, gnuplot runs as a subprocess in a fresh temporary folder, and the SVG it writes is returned ready to inline
// in the HTML report. Text is drawn `noenhanced` (an underscore in a name stays an underscore).
#pragma once
#include <map>
#include <string>

#include "suite/report/figures.hpp"

namespace clcp {

/// The gnuplot script (writes "figure.svg") and its data files (file name → content) for `f`. Pure; no process.
struct GnuplotJob {
  std::string script;
  std::map<std::string, std::string> files;
};
GnuplotJob gnuplot_job(const Figure& f);

/// Runs gnuplot ($CLCP_GNUPLOT, else `gnuplot` on PATH) on gnuplot_job(f) and returns the <svg> element: the XML
/// prolog and namespace attributes removed, every element id prefixed with "<f.id>-" so several figures can share one
/// HTML page. Same figure and gnuplot version → same bytes. Throws UserError (one line) when gnuplot is missing or
/// fails, naming its first error line.
std::string render_svg(const Figure& f);

}  // namespace clcp
