// The deterministic part of a pretraining bundle's pretrain_log.jsonl (every epoch record without its wall-clock
// "speed"), one canonical line per epoch: what determinism and resume tests compare.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace clcp::test {

inline std::string deterministic_pretrain_log(const std::filesystem::path& bundle) {
  std::ifstream in(bundle / "pretrain_log.jsonl");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("speed");
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace clcp::test
