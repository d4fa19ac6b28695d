// provenance.json of a result bundle (DESIGN.md "Result bundle"): what produced the numbers — git commit and dirty
// flag of the source tree, build type, compiler, LibTorch and CUDA versions, CPU/GPU model, threads, host, the exact
// command line, start/end times (UTC, ISO 8601) and wall time in seconds. Dataset manifest hashes, weights sha256
// and seeds are in spec.json and repeated here.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

/// Facts about the machine and build, collected once per run.
nlohmann::json collect_environment(const std::string& device, int threads);
/// Current UTC time as "2026-11-22T01:23:45Z".
std::string utc_now_iso();

}  // namespace clcp
