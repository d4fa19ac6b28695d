// Each verb of clcp-bench registers itself on the CLI11 app. The CLI is the only place that knows every stage.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace clcp::cli {

/// The command line as typed, recorded in provenance and shown in reports as "the command that re-runs it".
void set_command_line(const std::string& line);
const std::string& command_line();

void add_run(CLI::App& app);        // run       — the whole protocol: plan, finetune, evaluate, bundle, report
void add_data(CLI::App& app);       // data      — data synth (embedded default data), data check
void add_protocols(CLI::App& app);  // protocols — list protocols and scales, show a resolved plan
void add_report(CLI::App& app);     // report    — render reports from result bundles
void add_eval(CLI::App& app);       // eval      — evaluate a finetuned checkpoint on the protocol's eval splits
void add_weights(CLI::App& app);    // weights   — inspect weight files, list the registry's inits
void add_compare(CLI::App& app);    // compare   — paired bootstrap comparison of two sets of result bundles
void add_pretrain(CLI::App& app);   // pretrain  — CLCP camera–lidar pretraining of the image encoder (one cell)

}  // namespace clcp::cli
