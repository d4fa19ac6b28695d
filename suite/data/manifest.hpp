// Dataset manifests: what exactly a result was computed on. The manifest hash enters the cell id (DESIGN.md "A cell
// is content-addressed") and provenance.json, so the cell id covers the data's contents: a relabelled pixel, an
// image re-rendered at the same byte size, a swapped file — each gives another hash, another cell id, and no old
// bundle is reused as "already done".
//
// Every image and label is hashed whole with XXH3-128 (suite/core/content_hash.hpp; `xxh128sum FILE` prints the
// same digest). Hashing a full Cityscapes + ACDC root (≈ 7,000 files, ≈ 11 GB) costs its read time once; the hash
// cache (suite/core/hash_cache.hpp) then answers from (path, size, mtime, ctime, inode) so a rerun on unchanged data
// costs a stat() per file. README.md "Dataset manifests" gives the measured times.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "suite/core/hash_cache.hpp"
#include "suite/data/dataset.hpp"

namespace clcp {

/// {"dataset", "split", "count", "files": [{"image": rel, "label": rel, "image_bytes": n, "label_bytes": n,
/// "image_xxh128": hex, "label_xxh128": hex}, …] in record order, "hash": sha256_hex(canonical_json(files))}.
/// Paths are relative to split.root with '/' separators. Hashes come from `cache` (saved back afterwards).
/// Throws UserError naming the file if a listed file cannot be stat'ed or read.
nlohmann::json split_manifest(const Split& split, HashCache& cache);
/// As above with the process's default cache (default_hash_cache_file()).
nlohmann::json split_manifest(const Split& split);

/// split_manifest(split)["hash"]: 64 lowercase hex characters.
std::string manifest_hash(const Split& split, HashCache& cache);
std::string manifest_hash(const Split& split);

/// The process's default hash cache (one per process, shared by every manifest).
HashCache& default_hash_cache();

}  // namespace clcp
