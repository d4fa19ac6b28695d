// Renders a ReportModel. Formats (file names):
//   html  report.html  one self-contained file (no network): sortable tables (a small inline script), gnuplot SVG
//                      figures inline, every run linked to its provenance.json and re-run command;
//   latex report.tex   a complete pdflatex document: booktabs tables, pgfplots figures, footnotes with each run's
//                      provenance and command ("tex" is accepted as an alias);
//   md    report.md    Markdown tables;
//   csv   report.csv   long format for pandas (long_format.hpp);
//   json  report.json  the same rows as a JSON list of records.
// html, latex and md come from the Mustache templates in reports/templates/ (mstch); values are escaped per format
// in C++ (templates use {{{ }}}). Tables follow the thesis (clcp_reference.md §4): Table 4.1 (init × finetune mode:
// mIoU Cityscapes, mIoU ACDC, rPD), Table 4.3 (CLCP checkpoint epoch × head × lidar frozen × augmentation; omitted
// with a note when there is no CLCP cell), per condition and per class; each cell mean ± sd over seeds with n, the
// 95% bootstrap CI, and with a baseline the published numbers and deltas. Each protocol fingerprint gets its own
// section; a report with several says in bold that they are not comparable.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "suite/report/table_model.hpp"

namespace clcp {

struct RenderOptions {
  bool plots = true;  ///< html: run gnuplot for the figures (false: the figures are listed as "not drawn")
  /// Folder the report is written to; links to provenance files are made relative to it ("" → paths as given).
  std::filesystem::path out_dir;
};

/// Folder of the templates: $CLCP_TEMPLATES_DIR, else <source>/reports/templates.
std::filesystem::path templates_dir();
/// "tex" → "latex"; throws UserError for an unknown format.
std::string canonical_format(const std::string& format);
/// The file name a format is written to: report.html, report.tex, report.md, report.csv, report.json.
std::string report_file_name(const std::string& format);
/// File name of comparison i's qualitative-panel grid in a report folder: panel-c<i>.png (written by write_report).
std::string panel_file_name(size_t comparison);
/// Renders one format to a string.
std::string render_report(const ReportModel& model, const std::string& format, const RenderOptions& opts = {});
/// Writes each format into `out_dir` atomically (opts.out_dir is set to `out_dir`); returns the written paths.
std::vector<std::filesystem::path> write_report(const ReportModel& model, const std::filesystem::path& out_dir,
                                                const std::vector<std::string>& formats = {"md", "html", "latex", "csv",
                                                                                           "json"},
                                                RenderOptions opts = {});

}  // namespace clcp
