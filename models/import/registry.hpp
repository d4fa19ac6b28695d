// The registry of known encoder inits (models/registry.json): name → accepted file names, layout, expected sha256
// (null where unknown), whether it was ever released and how a user obtains it. Nothing is downloaded: an init name
// is resolved to a local file through, in order, the user config (~/.config/clcp-bench/weights.json,
// {"imagenet": "/path/…"}) and the --weights-dir folder (the registry's file names).
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace clcp {

struct RegistryInit {
  std::string name;                ///< "imagenet", "liploc-kitti", "clcp@ep19", …
  std::string description;
  bool released = true;
  std::vector<std::string> files;  ///< accepted file names in --weights-dir, preferred first
  std::string format, layout;
  std::string encoder = "image";      ///< "image" (ViT-S/16 inits, --init) | "lidar" (MinkUNet, --lidar-init)
  std::optional<std::string> sha256;  ///< lower-case hex; nullopt = not known
  std::string sha256_prefix;          ///< leading hex digits known from the published file name ("" = none)
  std::string obtain;                 ///< where and how a user gets the file
};

/// models/registry.json of the source tree, or $CLCP_WEIGHTS_REGISTRY.
std::filesystem::path default_registry_path();
/// $XDG_CONFIG_HOME/clcp-bench/weights.json, else $HOME/.config/clcp-bench/weights.json ("" if neither is set).
std::filesystem::path default_user_config_path();

/// Reads the registry; throws UserError naming the file for a missing file or a malformed entry.
std::vector<RegistryInit> load_registry(const std::filesystem::path& path = default_registry_path());

/// Where to look for weight files.
struct WeightsLookup {
  std::filesystem::path weights_dir;  ///< --weights-dir ("" = none)
  std::filesystem::path user_config = default_user_config_path();  ///< ignored when it does not exist
  std::filesystem::path registry = default_registry_path();
};

/// The process-wide lookup the CLI fills from --weights-dir; weights_dir defaults to $CLCP_WEIGHTS_DIR.
WeightsLookup& default_weights_lookup();

struct ResolvedInit {
  std::string init;                ///< as given
  bool random = false;
  std::filesystem::path path;      ///< the weights file (empty for random)
  std::optional<RegistryInit> entry;  ///< set for registry names
};

/// Resolves an --init value: "random"; "file:PATH"; a registry name (user config, then --weights-dir); or a plain
/// path to an existing file. Throws UserError with one line: for a registry name without a file, which file to put
/// where (and for never-released inits, how to produce it); for anything else, the known names.
ResolvedInit resolve_init(const std::string& init, const WeightsLookup& lookup);

/// The registry init whose known sha256 equals `sha256`, or whose only known sha256 prefix (mmdet's file-name
/// suffix) starts it, if any.
std::optional<RegistryInit> match_registry_sha256(const std::string& sha256,
                                                  const std::filesystem::path& registry = default_registry_path());

}  // namespace clcp
