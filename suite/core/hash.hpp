// SHA-256 (OpenSSL) of bytes and files, as lowercase hex. Used for cell ids, weights and dataset manifests.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace clcp {

/// sha256 of a byte string → 64 lowercase hex characters.
std::string sha256_hex(std::string_view bytes);
/// sha256 of a file's contents, streamed. Throws UserError if the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace clcp
