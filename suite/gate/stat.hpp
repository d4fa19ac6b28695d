// The statistical tier of the regression gate (anchors.md §(2) items 6–7, tier 2; MLPerf's reference convergence
// points applied to segmentation): finished runs of a reference init (smoke or full scale, several seeds) against a
// stored distribution — n, mean and sd per metric and condition. Two one-sided Welch tests with a stated margin δ:
//   regression:             H0 μ_new ≥ μ_ref − δ, rejected when p = P(T_ν ≤ (Δ + δ)/SE) < α
//   suspicious improvement: H0 μ_new ≤ μ_ref + δ, rejected when p = P(T_ν ≥ (Δ − δ)/SE) < α
// with Δ = mean_new − mean_ref, SE = √(sd_ref²/n_ref + sd_new²/n_new) and Welch–Satterthwaite ν. One new run
// (n_new = 1, no sd of its own) borrows sd_ref and ν = n_ref − 1. A flagged improvement fails the gate as a
// regression does: a result better than the reference's spread allows is a bug until shown otherwise
// (anti-cherry-picking). Values are fractions in [0, 1]; margins are in the same unit.
//
// Baseline file baselines/regression/<name>.json: {"schema": "clcp-bench/regression/1", "tier": "stat", "name",
// "protocol", "scale", "fingerprint", "init", "finetune_mode", "alpha", "margins": {metric: δ}, "why",
// "metrics": {metric: {"n", "mean", "sd"}}, "provenance": {...}, "cells": [cell ids]}. Metric keys:
// "source.mIoU", "target.pooled.mIoU", "target.<condition>.mIoU", "rPD".
#pragma once
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace clcp::gate {

struct Distribution {
  int64_t n = 0;
  double mean = 0, sd = 0;  ///< sample sd (n − 1)
};

struct StatBaseline {
  std::filesystem::path file;
  std::string name, protocol, scale, fingerprint, init, finetune_mode, why;
  double alpha = 0.05;
  std::map<std::string, double> margins;  ///< δ per metric key
  std::map<std::string, Distribution> metrics;
  nlohmann::json provenance;
  std::vector<std::string> cells;
};

/// Reads a stat-tier baseline file. Throws UserError naming the file.
StatBaseline read_stat_baseline(const std::filesystem::path& file);
/// Writes it canonically (atomic).
void write_stat_baseline(const StatBaseline& b);

/// The metric keys above → values, from one metrics.json (a metric that is null there is left out).
std::map<std::string, double> stat_metrics(const nlohmann::json& metrics);

struct MetricCheck {
  std::string key;
  Distribution ref, fresh;
  double delta = 0, margin = 0, se = 0, df = 0;
  double p_regression = 1, p_improvement = 1;  ///< the two one-sided p-values
  std::string verdict;  ///< "ok" | "regression" | "suspicious improvement" | "missing" | "not meaningful" (rPD only)
  std::string note;     ///< for "not meaningful": the rPD rule's line
};

/// One check per metric of the baseline, from the fresh runs' metrics (one map per run). A baseline metric that no
/// fresh run has is "missing" (a failure). `best_constant`: the fresh runs' source.best_constant_class_mIoU (one per
/// run, as source_best_constant()); when given, "rPD" follows the rPD rule (suite/stats/rpd_rule.hpp): unless the
/// reference's and the fresh runs' mean source mIoU are above the floor (mean best-constant + 0.10), its verdict is
/// "not meaningful" and it neither passes nor fails the gate.
std::vector<MetricCheck> check_stat(const StatBaseline& b, const std::vector<std::map<std::string, double>>& runs,
                                    const std::vector<double>& best_constant = {});

/// source.best_constant_class_mIoU of one metrics.json; NaN when absent.
double source_best_constant(const nlohmann::json& metrics);

/// The distribution of each metric over the runs (n, mean, sample sd; sd 0 for a single run).
std::map<std::string, Distribution> distributions(const std::vector<std::map<std::string, double>>& runs);

}  // namespace clcp::gate
