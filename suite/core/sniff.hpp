// What a file is, judged by its first bytes rather than its name, for error lines such as "--init x.safetensors: not
// a weights file: it is a PNG image". Recognises what a weights or data path most often holds by mistake: images
// (PNG, JPEG), JSON and HTML text (a download that returned an error page), Git LFS pointers (a clone without
// `git lfs pull`), archives (zip, gzip, tar), pickles, NumPy arrays, empty files and other text.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace clcp {

/// A short noun phrase for the content: "a PNG image", "empty (0 bytes)", "JSON text", "an HTML page (a failed
/// download?)", "a Git LFS pointer, not the file itself (run `git lfs pull`)", "text (first line: \"…\")",
/// "binary data (starts 12 34 …)". Never throws; an unreadable file gives "unreadable (<reason>)".
std::string describe_content(const std::filesystem::path& path);
/// The same for bytes already in memory (`total_size` the file size when `head` is only its beginning).
std::string describe_bytes(std::string_view head, uint64_t total_size);

}  // namespace clcp
