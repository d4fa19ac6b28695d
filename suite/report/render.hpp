// Renders a ReportModel with the Mustache templates in reports/templates/ (mstch): report.md (Markdown for READMEs),
// report.html (one self-contained file, no network), report.tex (booktabs tables for a thesis). Tables in the
// layout of the thesis's Table 4.1 (experiment | mIoU Cityscapes | mIoU ACDC | rPD), plus per-condition and
// per-class tables. Values are escaped per format in C++ (templates use {{{ }}} for pre-escaped text).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "suite/report/table_model.hpp"

namespace clcp {

/// Folder of the templates: $CLCP_TEMPLATES_DIR, else <source>/reports/templates.
std::filesystem::path templates_dir();
/// Renders one format ("md", "html", "tex") to a string.
std::string render_report(const ReportModel& model, const std::string& format);
/// Writes report.<fmt> for each format into `out_dir` atomically; returns the written paths.
std::vector<std::filesystem::path> write_report(const ReportModel& model, const std::filesystem::path& out_dir,
                                                const std::vector<std::string>& formats = {"md", "html", "tex"});

}  // namespace clcp
