// Bundle integrity: a finished bundle's final record (status.json with state "done", written last and atomically
// by Bundle::write_status) lists every file of the bundle with its size and XXH3-128 hash
// (suite/core/content_hash.hpp; `xxh128sum FILE` prints the same). Readers (report, compare, gate) verify it before
// they use a number: a file that is missing, shorter, longer or edited since the bundle was finished is an error
// that names the file. Then the figures of metrics.json are recomputed from the per-image evidence (summarise(),
// best_constant_class_miou()) and must agree bit for bit, so a metrics.json edited consistently with a forged record
// is caught too.
//
// Cost: every file is re-read and hashed on each verification (memory speed, ≈ 5–10 GB/s for XXH3), except
// checkpoints/ (the bulk of a bundle, never read by a report): those are checked through the hash cache
// (suite/core/hash_cache.hpp), i.e. re-hashed only when their size, mtime, ctime or inode changed.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

/// {relative path ('/' separators): {"bytes": n, "xxh128": hex}} of every regular file below `dir` except
/// status.json itself, temp files (*.tmp.*) and the owner-lock folder. Throws UserError naming an unreadable file.
nlohmann::json hash_bundle_files(const std::filesystem::path& dir);

struct BundleCheck {
  bool ok = true;
  std::string problem;  ///< one line naming the file, e.g. "…/metrics.json: changed since the bundle was finished"
};

/// Verifies the finished bundle in `dir` (status.json state "done"): the files record, then metrics.json against
/// its evidence. Results are memoised per process (a report reads a bundle several times). Never throws for a bad
/// bundle; the problem is returned.
BundleCheck verify_bundle(const std::filesystem::path& dir);

/// verify_bundle(dir): "" when it verifies; otherwise throws UserError "<problem>; re-run the cell with --force, or
/// pass --allow-unverified to use it marked 'not verified'", or — with allow_unverified — returns the problem.
std::string require_verified(const std::filesystem::path& dir, bool allow_unverified);

}  // namespace clcp
