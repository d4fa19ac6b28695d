// Notes a user should see once, not once per image: conversions the data stage applies silently otherwise (an RGBA
// or gray camera image read as BGR). note_once(kind, line) prints `line` (prefixed "note: ") on stderr through
// spdlog the first time `kind` occurs in the process and counts the rest. Thread-safe (the loader's workers call it).
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace clcp {

void note_once(const std::string& kind, const std::string& line);
/// Occurrences per kind so far (including the first).
std::map<std::string, uint64_t> note_counts();

}  // namespace clcp
