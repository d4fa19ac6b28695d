// Each verb of clcp-bench registers itself on the CLI11 app and maps its flags to suite/cells, which knows every
// stage; the CLI holds no orchestration.
#pragma once
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace clcp::cli {

/// The command line as typed, recorded in provenance and shown in reports as "the command that re-runs it".
void set_command_line(const std::string& line);
const std::string& command_line();
/// The arguments as given (argv[1] …), for verbs that start copies of themselves (`pretrain --nproc`).
void set_arguments(const std::vector<std::string>& args);
const std::vector<std::string>& arguments();

void add_run(CLI::App& app);        // run       — the whole protocol: plan, finetune, evaluate, bundle, report
void add_data(CLI::App& app);       // data      — data synth (embedded default data), data check
void add_protocols(CLI::App& app);  // protocols — list protocols and scales, show a resolved plan
void add_report(CLI::App& app);     // report    — render reports from result bundles
void add_eval(CLI::App& app);       // eval      — evaluate a finetuned checkpoint on the protocol's eval splits
void add_weights(CLI::App& app);    // weights   — inspect weight files, list the registry's inits
void add_compare(CLI::App& app);    // compare   — paired bootstrap comparison of two sets of result bundles
void add_pretrain(CLI::App& app);   // pretrain  — pretraining of the image encoder by a registered method (one cell)
void add_methods(CLI::App& app);    // methods   — the registered pretraining methods, their towers, data, protocols
void add_gate(CLI::App& app);       // gate      — regression gate: exact tier and statistical tier
void add_status(CLI::App& app);     // status    — every planned cell: done, running, interrupted, failed, never run

/// Parses argv (argv[0] = the program) and runs the verb: every error becomes one line on stderr and an exit code
/// (0 done, 1 a gate regression, 2 usage or input error, 3 internal error, 128 + signal when stopped).
int run_cli(int argc, char** argv);

/// Thrown by a verb to end with this exit code after it printed its result (gate: 1 = regression).
struct Exit {
  int code;
};


}  // namespace clcp::cli
