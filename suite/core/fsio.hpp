// File I/O with the result-bundle guarantees: writes are atomic (temp file in the same folder, fsync, rename), so a
// crash never leaves a half-written file that looks finished. JSON is written canonically (sorted keys, 2-space
// indent, trailing newline) so identical content gives identical bytes.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace clcp {

/// Atomically replaces `path` with `bytes`. Creates parent folders. Throws UserError naming the folder if unwritable.
void write_atomic(const std::filesystem::path& path, std::string_view bytes);
/// Atomically writes canonical JSON (sorted keys, indent 2, newline at end).
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);
/// Canonical single-line JSON used for hashing (sorted keys, no spaces).
std::string canonical_json(const nlohmann::json& j);
/// Reads a whole file. Throws UserError naming the file if it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);
/// Reads and parses a JSON file. Throws UserError naming the file and the parse position on bad JSON.
nlohmann::json read_json(const std::filesystem::path& path);
/// Appends one line (plus '\n') to a file and flushes it to disk (for train_log.jsonl).
void append_line(const std::filesystem::path& path, std::string_view line);
/// Throws UserError if `dir` cannot be created or written ("<dir>: not writable; choose another --out").
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace clcp
