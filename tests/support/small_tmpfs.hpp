// A small tmpfs mounted for a test (a full disk on demand), unmounted by the destructor. Mounting needs root (CI
// runs as root); where it is not allowed, mounted() is false and the test skips visibly.
#pragma once
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace clcp::test {

class SmallTmpfs {
 public:
  /// `size`: a tmpfs size option, e.g. "3m" or "64k".
  explicit SmallTmpfs(const std::string& name, const std::string& size) {
    path_ = std::filesystem::temp_directory_path() / ("clcp_tmpfs_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0)
      mounted_ = true;
    else
      why_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace clcp::test
