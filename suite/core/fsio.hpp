// File I/O with the result-bundle guarantees: writes are atomic (temp file in the same folder, fsync, rename), so a
// crash never leaves a half-written file that looks finished. JSON is written canonically (sorted keys, 2-space
// indent, trailing newline) so identical content gives identical bytes.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace clcp {

/// Atomically replaces `path` with `bytes` (temp file `<path>.tmp.<pid>.<n>`, write, fsync, rename). Creates parent
/// folders. Any failure (open, write, fsync, close, rename) removes the temp file and throws UserError naming `path`,
/// the bytes wanted, how many were written and the system's reason, e.g. "…/iter_6.safetensors: cannot write
/// 88235520 bytes (write after 2883584 bytes: No space left on device); free space on that disk or choose another
/// --out". `path` itself is never touched unless the whole new content is on disk.
void write_atomic(const std::filesystem::path& path, std::string_view bytes);
/// Atomically writes canonical JSON (sorted keys, indent 2, newline at end).
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);
/// Canonical single-line JSON used for hashing (sorted keys, no spaces).
std::string canonical_json(const nlohmann::json& j);
/// Reads a whole file. Throws UserError naming the file if it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);
/// Reads and parses a JSON file. Throws UserError naming the file and the parse position on bad JSON.
nlohmann::json read_json(const std::filesystem::path& path);
/// Appends one line (plus '\n') to a file and fsyncs it (for train_log.jsonl). On a failed write the partial line is
/// truncated away again and UserError names the file, the bytes and the reason.
void append_line(const std::filesystem::path& path, std::string_view line);
/// Creates `dir` if needed. Throws UserError naming it when it is a file ("exists and is a file, not a folder"), when
/// a parent is a file, or when it cannot be created or written (with the system's reason).
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace clcp
