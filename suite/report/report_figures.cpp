#include "suite/report/report_figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "suite/data/labels.hpp"

namespace clcp {

namespace {

double ceil_to(double v, double step) { return std::ceil(v / step) * step; }

void push(Series& s, double x, const Stat& st) {
  const auto [lo, hi] = error_bar(st);
  s.x.push_back(x);
  s.y.push_back(st.mean);
  s.y_lo.push_back(lo);
  s.y_hi.push_back(hi);
}

Figure scatter(const ReportModel& m, const Comparison& c, const std::string& id) {
  Figure f;
  f.id = id;
  f.kind = FigureKind::Scatter;
  f.title = "Source vs target mIoU";
  f.xlabel = "mIoU Cityscapes val (%)";
  f.ylabel = "mIoU ACDC val (%)";
  f.caption = "Each point is one init x finetune mode (mean over seeds; bars: 95% bootstrap CI, else +- sd). Dashed "
              "lines: constant rPD = ACDC / Cityscapes.";
  double hi = 0;
  for (const auto& g : c.groups) {
    if (!std::isfinite(g.miou_source.mean) || !std::isfinite(g.miou_target.mean)) continue;
    Series s;
    s.label = g.experiment;
    const auto [xlo, xhi] = error_bar(g.miou_source);
    const auto [ylo, yhi] = error_bar(g.miou_target);
    s.x = {g.miou_source.mean};
    s.y = {g.miou_target.mean};
    s.x_lo = {xlo};
    s.x_hi = {xhi};
    s.y_lo = {ylo};
    s.y_hi = {yhi};
    hi = std::max({hi, xhi, yhi});
    f.series.push_back(s);
  }
  if (m.baseline) {
    Series s;
    s.label = "published (" + m.baseline_name + ")";
    s.hollow = true;
    for (const auto& g : c.groups)
      if (g.baseline) {
        s.x.push_back(g.baseline->miou_cityscapes);
        s.y.push_back(g.baseline->miou_acdc);
        hi = std::max({hi, g.baseline->miou_cityscapes, g.baseline->miou_acdc});
      }
    if (!s.x.empty()) f.series.push_back(s);
  }
  if (f.series.empty()) f.omitted = "no finished run: nothing to plot";
  f.xmin = 0;
  f.ymin = 0;
  f.xmax = std::max(10.0, ceil_to(hi * 1.1, 10));
  f.ymax = f.xmax;
  f.iso_lines = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  return f;
}

Figure epochs(const Comparison& c, const std::string& id) {
  Figure f;
  f.id = id;
  f.kind = FigureKind::Lines;
  f.title = "mIoU vs CLCP pretraining epoch";
  f.xlabel = "CLCP pretraining epoch";
  f.ylabel = "mIoU (%)";
  f.caption = "One line per CLCP setting and evaluation set (mean over seeds, bars: 95% bootstrap CI).";
  // setting (head, fb, aug, finetune mode) → epoch → group
  std::map<std::string, std::map<int64_t, const GroupRow*>> lines;
  for (const auto& g : c.groups)
    if (g.clcp && g.clcp->epoch) {
      ClcpInit setting = *g.clcp;
      setting.epoch.reset();
      std::string name = setting.label();
      if (g.finetune_mode == "frozen") name += " fb-finetune";
      lines[name][*g.clcp->epoch] = &g;
    }
  if (lines.empty()) {
    f.omitted = "no CLCP cells (inits named like clcp@ep19): the epoch plot needs them";
    return f;
  }
  for (const auto& [name, by_epoch] : lines)
    for (const bool target : {false, true}) {
      Series s;
      s.label = name + (target ? ", ACDC" : ", Cityscapes");
      for (const auto& [ep, g] : by_epoch) push(s, static_cast<double>(ep), target ? g->miou_target : g->miou_source);
      f.series.push_back(s);
    }
  f.ymin = 0;
  return f;
}

// Mean curve over a group's finished runs, at the iterations of the first run (runs of one group share the log
// interval; an iteration missing in another run is skipped for that run).
std::pair<std::vector<double>, std::vector<double>> mean_curve(const Comparison& c, const GroupRow& g, bool loss) {
  std::vector<const RunRow*> runs;
  for (size_t i : g.runs)
    if (c.runs[i].state == "done" && !c.runs[i].iter.empty()) runs.push_back(&c.runs[i]);
  if (runs.empty()) return {};
  std::vector<double> x = runs[0]->iter, y(x.size(), 0.0), cnt(x.size(), 0.0);
  for (const RunRow* r : runs)
    for (size_t i = 0; i < r->iter.size(); ++i) {
      const auto it = std::lower_bound(x.begin(), x.end(), r->iter[i]);
      if (it == x.end() || *it != r->iter[i]) continue;
      const double v = loss ? r->loss[i] : r->lr[i];
      if (!std::isfinite(v)) continue;
      y[it - x.begin()] += v;
      cnt[it - x.begin()] += 1;
    }
  for (size_t i = 0; i < y.size(); ++i) y[i] = cnt[i] > 0 ? y[i] / cnt[i] : NAN;
  return {x, y};
}

Figure curves(const Comparison& c, const std::string& id, bool loss) {
  Figure f;
  f.id = id;
  f.kind = FigureKind::Lines;
  f.title = loss ? "Training loss" : "Learning rate";
  f.xlabel = "iteration";
  f.ylabel = loss ? "cross-entropy loss" : "learning rate";
  f.caption = loss ? "Finetuning loss from train_log.jsonl, mean over each group's finished seeds."
                   : "Learning rate (poly schedule) from train_log.jsonl.";
  for (const auto& g : c.groups) {
    auto [x, y] = mean_curve(c, g, loss);
    if (x.empty()) continue;
    Series s;
    s.label = g.experiment;
    s.x = std::move(x);
    s.y = std::move(y);
    f.series.push_back(s);
  }
  if (f.series.empty()) f.omitted = "no finished run with a train_log.jsonl";
  f.ymin = 0;
  return f;
}

Figure conditions(const Comparison& c, const std::string& id) {
  Figure f;
  f.id = id;
  f.kind = FigureKind::Bars;
  f.title = "ACDC val mIoU per condition";
  f.xlabel = "condition";
  f.ylabel = "mIoU (%)";
  f.caption = "Mean over seeds; bars: 95% bootstrap CI (else +- sd).";
  f.categories = c.conditions;
  f.categories.push_back("pooled");
  for (const auto& g : c.groups) {
    if (g.runs_done == 0) continue;
    Series s;
    s.label = g.experiment;
    for (size_t k = 0; k < c.conditions.size(); ++k) {
      const auto it = g.miou_conditions.find(c.conditions[k]);
      push(s, static_cast<double>(k), it == g.miou_conditions.end() ? Stat{} : it->second);
    }
    push(s, static_cast<double>(c.conditions.size()), g.miou_target);
    f.series.push_back(s);
  }
  if (f.series.empty()) f.omitted = "no finished run: nothing to plot";
  f.ymin = 0;
  return f;
}

Figure classes(const Comparison& c, const std::string& id, bool target) {
  Figure f;
  f.id = id;
  f.kind = FigureKind::Heatmap;
  f.title = target ? "Per-class IoU (%), ACDC val" : "Per-class IoU (%), Cityscapes val";
  f.caption = "Mean over seeds; blank: class absent from the labels and predictions.";
  for (int k = 0; k < kNumClasses; ++k) f.categories.emplace_back(kClassNames[k]);
  for (const auto& g : c.groups) {
    if (g.runs_done == 0) continue;
    f.rows.push_back(g.experiment);
    std::vector<double> row;
    for (const auto& s : target ? g.iou_target : g.iou_source) row.push_back(s.mean);
    f.matrix.push_back(row);
  }
  if (f.rows.empty()) f.omitted = "no finished run: nothing to plot";
  return f;
}

}  // namespace

std::pair<double, double> error_bar(const Stat& s) {
  if (std::isfinite(s.lo) && std::isfinite(s.hi)) return {s.lo, s.hi};
  if (std::isfinite(s.sd) && std::isfinite(s.mean)) return {s.mean - s.sd, s.mean + s.sd};
  return {s.mean, s.mean};
}

std::vector<Figure> comparison_figures(const ReportModel& model, size_t index) {
  const Comparison& c = model.comparisons.at(index);
  const std::string p = fmt::format("c{}-", index);
  return {scatter(model, c, p + "scatter"),        epochs(c, p + "epochs"),
          curves(c, p + "loss", true),             curves(c, p + "lr", false),
          conditions(c, p + "conditions"),         classes(c, p + "classes-cityscapes", false),
          classes(c, p + "classes-acdc", true)};
}

std::vector<Figure> pretrain_figures(const ReportModel& model) {
  if (model.pretraining.empty()) return {};
  Figure loss, tau, recall;
  loss.id = "pretrain-loss";
  loss.title = "Pretraining loss per epoch";
  loss.xlabel = "epoch (0-based)";
  loss.ylabel = "symmetric InfoNCE";
  loss.caption = "Train loss (mean over the epoch's steps) and val loss (fixed val crops, eval mode) of each "
                 "pretraining run; the dotted chance level is ln B.";
  tau.id = "pretrain-tau";
  tau.title = "Effective temperature per epoch";
  tau.xlabel = "epoch (0-based)";
  tau.ylabel = "tau = 1 / logit scale";
  tau.caption = "The learnt temperature after each epoch (inv_exp: exp(t); clip: exp(-s)).";
  recall.id = "pretrain-recall";
  recall.title = "Val retrieval Recall@1 per epoch";
  recall.xlabel = "epoch (0-based)";
  recall.ylabel = "Recall@1";
  recall.caption = "Image-to-lidar Recall@1 on the val pairs (the exact pair is the only positive); the dotted line "
                   "is chance, 1 / N.";
  for (auto* f : {&loss, &tau, &recall}) f->kind = FigureKind::Lines;
  Series chance_loss{"chance ln B"}, chance_r1{"chance 1/N"};
  for (const auto& run : model.pretraining) {
    Series tr{run.variant + " train"}, va{run.variant + " val"}, t{run.variant}, r{run.variant};
    for (const auto& e : run.epochs) {
      const auto x = static_cast<double>(e.epoch);
      tr.x.push_back(x), tr.y.push_back(e.train_loss);
      va.x.push_back(x), va.y.push_back(e.val_loss);
      if (run.method == "clcp") {  // τ and Recall@1 are CLCP's diagnostics
        t.x.push_back(x), t.y.push_back(e.tau);
        r.x.push_back(x), r.y.push_back(e.r1_image_to_lidar);
      }
      if (&run == &model.pretraining.front()) {
        if (std::isfinite(e.chance_loss)) chance_loss.x.push_back(x), chance_loss.y.push_back(e.chance_loss);
        if (run.method == "clcp") chance_r1.x.push_back(x), chance_r1.y.push_back(e.r1_chance);
      }
    }
    loss.series.push_back(tr);
    loss.series.push_back(va);
    if (!t.x.empty()) tau.series.push_back(t);
    if (!r.x.empty()) recall.series.push_back(r);
  }
  if (!chance_loss.x.empty()) loss.series.push_back(chance_loss);
  recall.series.push_back(chance_r1);
  recall.ymin = 0;
  return {loss, tau, recall};
}

}  // namespace clcp
