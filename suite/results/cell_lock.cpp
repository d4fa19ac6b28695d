#include "suite/results/cell_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "suite/core/error.hpp"
#include "suite/results/provenance.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {

std::optional<LockOwner> read_owner(int fd) {
  std::string text(4096, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  LockOwner o;
  if (n > 0) {
    text.resize(static_cast<size_t>(n));
    try {
      const auto j = nlohmann::json::parse(text);
      o.pid = j.value("pid", int64_t{0});
      o.host = j.value("host", "");
      o.started = j.value("started", "");
      o.command = j.value("command", "");
    } catch (const std::exception&) {
      // a record being rewritten: the owner is known to exist, its details are not
    }
  }
  return o;
}

std::string hostname() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// flock with LOCK_NB, retried for a moment: lock_holder() probes take the lock shared for microseconds, and a
// probe must not make a starting run believe the cell is taken.
bool try_lock(int fd) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace

std::string LockOwner::describe() const {
  if (pid == 0) return "another process (its owner record is not written yet)";
  return fmt::format("pid {} on {} since {}", pid, host.empty() ? "?" : host, started.empty() ? "?" : started);
}

fs::path CellLock::path_for(const fs::path& bundle_dir) {
  const fs::path d = bundle_dir.lexically_normal();
  const fs::path name = d.has_filename() ? d.filename() : d.parent_path().filename();
  const fs::path parent = d.has_filename() ? d.parent_path() : d.parent_path().parent_path();
  return parent / ".locks" / (name.string() + ".lock");
}

CellLock CellLock::acquire(const fs::path& bundle_dir, const std::string& command, bool wait,
                           const std::function<void(const LockOwner&)>& on_wait) {
  const fs::path file = path_for(bundle_dir);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("{}: cannot create the cell's lock file ({}); the results folder must be writable", file.string(),
         std::strerror(errno));
  if (!try_lock(fd)) {
    const LockOwner owner = read_owner(fd).value_or(LockOwner{});
    const std::string cell = bundle_dir.filename().string();
    if (!wait) {
      ::close(fd);
      fail("cell {}: already being run by {}{}; let it finish, or pass --wait to start when it is done", cell,
           owner.describe(), owner.command.empty() ? "" : fmt::format(" (`{}`)", owner.command));
    }
    if (on_wait) on_wait(owner);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int e = errno;
        ::close(fd);
        fail("{}: waiting for the cell's lock failed ({})", file.string(), std::strerror(e));
      }
    }
  }
  const std::string record = nlohmann::json{{"pid", static_cast<int64_t>(::getpid())},
                                            {"host", hostname()},
                                            {"started", utc_now_iso()},
                                            {"command", command}}
                                 .dump() +
                             "\n";
  // The record is informative only; a full disk must not stop a run here (status.json will report it).
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t n = ::pwrite(fd, record.data(), record.size(), 0);
    (void)n;
  }
  return CellLock(fd);
}

CellLock::~CellLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

std::optional<LockOwner> lock_holder(const fs::path& bundle_dir) {
  const fs::path file = CellLock::path_for(bundle_dir);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<LockOwner> owner;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
    ::flock(fd, LOCK_UN);
  else
    owner = read_owner(fd);
  ::close(fd);
  return owner;
}

std::optional<std::string> observed_state(const Bundle& b) {
  auto s = b.state();
  if (s == "running" && !lock_holder(b.dir())) return std::string("interrupted");
  return s;
}

}  // namespace clcp
