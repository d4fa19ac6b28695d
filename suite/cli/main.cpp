// clcp-bench: the executable. Every verb is in the clcp_cli library (entry.cpp).
#include "suite/cli/commands.hpp"

int main(int argc, char** argv) { return clcp::cli::run_cli(argc, argv); }
