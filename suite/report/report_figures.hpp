// The figures of a report, built from its model (no numbers are computed here that the tables do not show):
//   scatter     mIoU ACDC vs mIoU Cityscapes per group (error bars: bootstrap CI, else ± sd) with rPD iso-lines
//               y = r·x, and the published rows (hollow markers) when a baseline is given;
//   epochs      mIoU vs CLCP pretraining epoch with CIs, one line per CLCP setting (omitted with a note without
//               CLCP cells);
//   loss, lr    training loss and learning rate over iterations from train_log.jsonl, mean over a group's seeds;
//   conditions  mIoU per ACDC condition and pooled, bars with CIs;
//   classes-*   per-class IoU heat-maps (groups × 19 classes), Cityscapes val and ACDC val.
#pragma once
#include <string>
#include <vector>

#include "suite/report/figures.hpp"
#include "suite/report/table_model.hpp"

namespace clcp {

/// Error bar of a Stat: the CI when defined, else mean ± sd, else none ({mean, mean}).
std::pair<double, double> error_bar(const Stat& s);

/// The figures of comparison `index` of `model`; ids are "c<index>-<name>".
std::vector<Figure> comparison_figures(const ReportModel& model, size_t index);
/// The pretraining figures (model.pretraining): train and val InfoNCE per epoch with the chance level ln B (the
/// thesis's Figs 4.4–4.7), the effective temperature τ, and Recall@1 image→lidar with its chance level. Empty when
/// the report has no pretraining bundles.
std::vector<Figure> pretrain_figures(const ReportModel& model);

}  // namespace clcp
