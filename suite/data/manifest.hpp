// Dataset manifests: what exactly a result was computed on. The manifest hash enters the cell id (DESIGN.md "A cell
// is content-addressed") and provenance.json.
//
// The hash covers relative paths and byte sizes, not file contents: hashing the contents of ~3,500 Cityscapes PNGs
// (≈ 6 GB) on every run would take minutes, while paths + sizes already detect a different, partial or re-generated
// set (a regenerated PNG practically never keeps its exact byte size). Users who need content-level proof can run
// sha256sum over the files listed in the manifest.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "suite/data/dataset.hpp"

namespace clcp {

/// {"dataset", "split", "count", "files": [{"image": rel, "label": rel, "image_bytes": n, "label_bytes": n}, …] in
/// record order, "hash": sha256_hex(canonical_json(files))}. Paths are relative to split.root with '/' separators.
/// Throws UserError naming the file if a listed file cannot be stat'ed.
nlohmann::json split_manifest(const Split& split);

/// split_manifest(split)["hash"]: 64 lowercase hex characters.
std::string manifest_hash(const Split& split);

}  // namespace clcp
