// Content hashes of bytes and files with XXH3-128 (xxHash 0.8, Debian's libxxhash; not our own), as 32 lowercase
// hex characters in xxHash's canonical (big-endian) form — exactly what `xxh128sum FILE` prints, so a user can check
// a dataset manifest or a bundle's integrity record with a stock tool. XXH3 detects accidental change (edits,
// truncation, bit rot, a regenerated file) at memory speed; it is not a defence against a deliberate forger (use the
// sha256 of weights files, suite/core/hash.hpp, where provenance must hold against that).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace clcp {

/// XXH3-128 (seed 0) of `bytes`.
std::string xxh128_hex(std::string_view bytes);

/// XXH3-128 of a file's contents, streamed in 1 MiB blocks. `bytes_read` (optional) receives the size hashed.
/// Throws UserError naming the file if it cannot be opened or read (with the system's reason).
std::string xxh128_file(const std::filesystem::path& path, uint64_t* bytes_read = nullptr);

}  // namespace clcp
