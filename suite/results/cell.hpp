// A cell is one point of a protocol's grid: (init × finetune mode × seed). Its id is content-addressed
// (DESIGN.md): sha256 of the canonical cell spec, which holds the protocol fingerprint, the init name and its weights
// sha256, the finetune mode, the seed and the dataset manifest hashes. Same inputs → same id → the finished cell is
// found and not run again.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

struct CellSpec {
  std::string protocol;       ///< protocol name, e.g. "dg_acdc"
  std::string scale;          ///< scale name, e.g. "smoke"
  std::string fingerprint;    ///< Protocol::fingerprint()
  std::string init;           ///< "random" or the init's name / file name
  std::string init_sha256;    ///< sha256 of the weights file; "" for random
  std::string finetune_mode;  ///< "full" | "frozen"
  int64_t seed = 0;
  nlohmann::json datasets;    ///< {"source_train": hash, "source_eval": hash, "target": hash}
  nlohmann::json recipe;      ///< Protocol::recipe_json(), kept so a bundle is self-describing

  nlohmann::json to_json() const;
  static CellSpec from_json(const nlohmann::json& j);
  /// "<init>.<mode>.s<seed>-<12 hex of sha256(canonical spec without recipe)>", safe as a folder name.
  std::string id() const;
  /// "<init> <mode> seed <seed>" for tables.
  std::string label() const;
};

}  // namespace clcp
