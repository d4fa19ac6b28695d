// A cache of file content hashes (XXH3-128, content_hash.hpp) so that hashing a dataset's every image and label —
// 2 × 3,475 Cityscapes files, ≈ 11 GB with ACDC — costs its full price once and a stat() per file afterwards.
// An entry is reused only while the file's identity is unchanged: absolute path, size, mtime and ctime (ns), inode
// and device. ctime is in the key besides the (path, size, mtime, inode) a user might expect because it cannot be set
// back by `touch -r` or `cp -p`: a file rewritten in place and given its old mtime is still re-hashed.
//
// The cache file is JSON ({"schema": "clcp-bench/hash-cache/1", "files": {abs path: {size, mtime_ns, ctime_ns,
// inode, device, xxh128}}}) in $CLCP_CACHE_DIR, else $XDG_CACHE_HOME/clcp-bench, else ~/.cache/clcp-bench
// (hashes.json). It is a cache, not a record: when it is missing, unreadable or not writable every file is hashed
// again (a warning says why it could not be saved) and results are the same.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace clcp {

/// The default cache file (see above).
std::filesystem::path default_hash_cache_file();

class HashCache {
 public:
  /// Loads `file` if it exists and parses; otherwise starts empty (never throws for a bad cache file).
  explicit HashCache(std::filesystem::path file = default_hash_cache_file());

  /// XXH3-128 hex of `path`'s contents: from the cache if its identity is unchanged, else hashed now and recorded.
  /// Throws UserError naming the file if it cannot be stat'ed or read. Thread-safe.
  std::string file_hash(const std::filesystem::path& path);

  /// Writes the cache back atomically (merged with entries another process saved meanwhile) if anything was added.
  /// Returns "" on success or when nothing changed, else the reason it could not be written (for a warning).
  std::string save();

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t bytes_hashed() const { return bytes_hashed_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Entry {
    uint64_t size = 0, inode = 0, device = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    std::string xxh128;
  };
  std::filesystem::path file_;
  std::map<std::string, Entry> entries_;
  std::mutex mutex_;
  bool dirty_ = false;
  uint64_t hits_ = 0, misses_ = 0, bytes_hashed_ = 0;
};

}  // namespace clcp
