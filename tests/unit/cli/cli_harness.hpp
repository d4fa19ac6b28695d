// Runs the real clcp-bench executable the way a user does, for end-to-end tests.
#pragma once
#include <filesystem>
#include <string>

#include "support/run_command.hpp"

namespace clcp::test {

/// Runs `clcp-bench <args>` with a shell, capturing output and exit code.
CommandResult run_cli(const std::string& args);
/// Starts `clcp-bench <args>`, waits until `wait_for` exists (polling), sends SIGINT, and waits for the exit.
CommandResult run_cli_interrupt_when(const std::string& args, const std::filesystem::path& wait_for);
/// A small embedded data set shared by the CLI tests (rendered once per test process).
const std::filesystem::path& small_synth_root();

}  // namespace clcp::test
