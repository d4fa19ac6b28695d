#include "suite/core/fsio.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "suite/core/error.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {
void write_all_fd(int fd, std::string_view bytes, const fs::path& shown) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) fail("{}: write failed (disk full?); free space or choose another --out", shown.string());
    off += static_cast<size_t>(n);
  }
}
}  // namespace

void write_atomic(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("{}: cannot write into this folder; check permissions or choose another --out", path.parent_path().string());
  write_all_fd(fd, bytes, path);
  ::fsync(fd);
  ::close(fd);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("{}: cannot replace file ({}); check permissions", path.string(), ec.message());
  }
}

std::string canonical_json(const nlohmann::json& j) { return j.dump(); }

void write_json_atomic(const fs::path& path, const nlohmann::json& j) { write_atomic(path, j.dump(2) + "\n"); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: file not found or unreadable; check the path", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON (byte {}); fix the syntax", path.string(), e.byte);
  }
}

void append_line(const fs::path& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) fail("{}: cannot append; check permissions", path.string());
  std::string buf(line);
  buf.push_back('\n');
  write_all_fd(fd, buf, path);
  ::fsync(fd);
  ::close(fd);
}

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK) != 0)
    fail("{}: output folder is not writable; choose another --out or fix its permissions", dir.string());
}

}  // namespace clcp
