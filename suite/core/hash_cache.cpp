#include "suite/core/hash_cache.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "suite/core/content_hash.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kSchema = "clcp-bench/hash-cache/1";

int64_t ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

json read_entries(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return json::object();
  try {
    const json j = json::parse(read_file(file));
    if (j.value("schema", "") == kSchema && j.contains("files") && j["files"].is_object()) return j["files"];
  } catch (const std::exception&) {
    // a damaged cache is only a cache: start again
  }
  return json::object();
}
}  // namespace

fs::path default_hash_cache_file() {
  if (const char* d = std::getenv("CLCP_CACHE_DIR"); d && *d) return fs::path(d) / "hashes.json";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return fs::path(d) / "clcp-bench" / "hashes.json";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "clcp-bench" / "hashes.json";
  return fs::temp_directory_path() / "clcp-bench-cache" / "hashes.json";
}

HashCache::HashCache(fs::path file) : file_(std::move(file)) {
  const json files = read_entries(file_);  // (iterating items() of a temporary would outlive it)
  for (const auto& [path, e] : files.items()) {
    try {
      entries_[path] = Entry{e.at("size").get<uint64_t>(), e.at("inode").get<uint64_t>(), e.at("device").get<uint64_t>(),
                             e.at("mtime_ns").get<int64_t>(), e.at("ctime_ns").get<int64_t>(),
                             e.at("xxh128").get<std::string>()};
    } catch (const std::exception&) {
      // skip a malformed entry
    }
  }
}

std::string HashCache::file_hash(const fs::path& path) {
  const std::string key = fs::absolute(path).lexically_normal().string();
  struct stat st {};
  if (::stat(key.c_str(), &st) != 0)
    fail("{}: cannot read file ({}); re-download or regenerate it", path.string(), std::strerror(errno));
  const Entry now{static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_dev),
                  ns(st.st_mtim), ns(st.st_ctim), ""};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(key);
    if (it != entries_.end() && it->second.size == now.size && it->second.inode == now.inode &&
        it->second.device == now.device && it->second.mtime_ns == now.mtime_ns && it->second.ctime_ns == now.ctime_ns) {
      ++hits_;
      return it->second.xxh128;
    }
  }
  uint64_t n = 0;
  Entry e = now;
  e.xxh128 = xxh128_file(key, &n);
  std::lock_guard<std::mutex> lock(mutex_);
  ++misses_;
  bytes_hashed_ += n;
  // A file that changed while it was read is hashed but not cached; nor is one changed in the last 2 s, which a
  // second write within the same timestamp tick could change again without changing size, mtime or ctime (git's
  // "racy" entries).
  struct stat after {};
  struct timespec wall {};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  const bool racy = ns(wall) - std::max(e.mtime_ns, e.ctime_ns) < 2'000'000'000LL;
  if (!racy && ::stat(key.c_str(), &after) == 0 && static_cast<uint64_t>(after.st_size) == n &&
      ns(after.st_mtim) == e.mtime_ns && ns(after.st_ctim) == e.ctime_ns) {
    entries_[key] = e;
    dirty_ = true;
  }
  return e.xxh128;
}

std::string HashCache::save() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!dirty_) return "";
  json files = read_entries(file_);  // keep what another process added meanwhile
  for (const auto& [path, e] : entries_)
    files[path] = {{"size", e.size},       {"inode", e.inode},       {"device", e.device},
                   {"mtime_ns", e.mtime_ns}, {"ctime_ns", e.ctime_ns}, {"xxh128", e.xxh128}};
  try {
    write_atomic(file_, json{{"schema", kSchema}, {"files", std::move(files)}}.dump() + "\n");
  } catch (const UserError& e) {
    return e.what();
  }
  dirty_ = false;
  return "";
}

}  // namespace clcp
