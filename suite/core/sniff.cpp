#include "suite/core/sniff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace clcp {

namespace {
bool starts(std::string_view s, std::string_view magic) { return s.substr(0, magic.size()) == magic; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n' ||
                        s.front() == '\xef' || s.front() == '\xbb' || s.front() == '\xbf'))
    s.remove_prefix(1);
  return s;
}

bool is_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 || c == '\n' || c == '\r' || c == '\t';
  });
}
}  // namespace

std::string describe_bytes(std::string_view head, uint64_t total_size) {
  if (total_size == 0) return "empty (0 bytes)";
  if (starts(head, "\x89PNG\r\n\x1a\n")) return "a PNG image";
  if (starts(head, "\xff\xd8\xff")) return "a JPEG image";
  if (starts(head, "PK\x03\x04")) return "a zip archive";
  if (starts(head, "\x1f\x8b")) return "a gzip-compressed file";
  if (head.size() > 262 && head.substr(257, 5) == "ustar") return "a tar archive";
  if (starts(head, "\x93NUMPY")) return "a NumPy .npy array";
  if (starts(head, "\x80") && head.size() > 1 && head[1] >= 2 && head[1] <= 5) return "a Python pickle";
  if (starts(head, "version https://git-lfs"))
    return "a Git LFS pointer, not the file itself (run `git lfs pull`)";
  const std::string_view t = trim_left(head);
  if (is_text(head)) {
    if (starts(t, "{") || starts(t, "[")) return "JSON text";
    std::string lower(t.substr(0, 64));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (starts(lower, "<!doctype html") || starts(lower, "<html")) return "an HTML page (a failed download?)";
    std::string first(t.substr(0, std::min<size_t>(t.find('\n'), 60)));
    return fmt::format("text (first line: \"{}\")", first);
  }
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(head.size(), 8); ++i)
    hex += fmt::format("{}{:02x}", i ? " " : "", static_cast<unsigned char>(head[i]));
  return fmt::format("binary data (starts {})", hex);
}

std::string describe_content(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fmt::format("unreadable ({})", ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("unreadable ({})", std::strerror(errno));
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return describe_bytes(head, size);
}

}  // namespace clcp
