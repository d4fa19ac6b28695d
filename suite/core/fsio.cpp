#include "suite/core/fsio.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "suite/core/error.hpp"
#include "suite/core/fault.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {

// The one line for a failed write: the file the caller asked for (never the temp file), how many bytes were wanted,
// how far it got, and the system's reason (ENOSPC → "No space left on device").
[[noreturn]] void fail_write(const fs::path& shown, size_t want, size_t done, int err, const char* step) {
  fail("{}: cannot write {} bytes ({}{}: {}); free space on that disk or choose another --out", shown.string(), want,
       step, done ? fmt::format(" after {} bytes", done) : std::string(), std::strerror(err));
}

// Writes all of `bytes`; returns 0 or the errno of the first failure (`done` receives the bytes written).
int write_all_fd(int fd, std::string_view bytes, size_t& done, std::string_view half_point) {
  done = 0;
  const size_t half = bytes.size() / 2;
  bool half_passed = half_point.empty();
  while (done < bytes.size()) {
    const size_t limit = half_passed ? bytes.size() : half;
    if (done >= limit) {
      fault_point(half_point);
      half_passed = true;
      continue;
    }
    const ssize_t n = ::write(fd, bytes.data() + done, limit - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void write_atomic(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const std::string point = "write:" + path.string();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    fail("{}: cannot create a file in {} ({}); check permissions and free space, or choose another --out",
         path.string(), path.parent_path().string(), std::strerror(e));
  }
  fault_point(point + ":open");
  // On any failure the temp file goes: a full disk gets its space back and nothing half-written is left behind.
  auto abandon = [&](size_t done, int err, const char* step) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail_write(path, bytes.size(), done, err, step);
  };
  size_t done = 0;
  if (const int e = write_all_fd(fd, bytes, done, point + ":half")) abandon(done, e, "write");
  if (::fsync(fd) != 0) abandon(done, errno, "fsync");
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail_write(path, bytes.size(), done, e, "close");
  }
  fault_point(point + ":synced");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail("{}: cannot replace the file ({}); check permissions or choose another --out", path.string(),
         std::strerror(e));
  }
  fault_point(point + ":renamed");
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
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    fail("{}: cannot open for appending ({}); check permissions and free space", path.string(), std::strerror(e));
  }
  const off_t before = ::lseek(fd, 0, SEEK_END);
  std::string buf(line);
  buf.push_back('\n');
  size_t done = 0;
  int e = write_all_fd(fd, buf, done, "append:" + path.string() + ":half");
  if (e == 0 && ::fsync(fd) != 0) e = errno;
  if (e != 0) {
    // Take the torn line back off so the file holds whole lines only.
    if (before >= 0 && ::ftruncate(fd, before) == 0) ::fsync(fd);
    ::close(fd);
    fail_write(path, buf.size(), done, e, "append");
  }
  ::close(fd);
}

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    fail("{}: exists and is a file, not a folder; choose another --out (or move the file away)", dir.string());
  fs::create_directories(dir, ec);
  if (ec) {
    // Name the part of the path that is in the way when it is a file.
    for (fs::path p = dir.parent_path(); !p.empty() && p != p.parent_path(); p = p.parent_path())
      if (fs::exists(p) && !fs::is_directory(p))
        fail("{}: cannot create the folder: {} is a file, not a folder; choose another --out", dir.string(),
             p.string());
    fail("{}: output folder cannot be created ({}); choose another --out or fix its permissions", dir.string(),
         ec.message());
  }
  if (::access(dir.c_str(), W_OK) != 0)
    fail("{}: output folder is not writable ({}); choose another --out or fix its permissions", dir.string(),
         std::strerror(errno));
}

}  // namespace clcp
