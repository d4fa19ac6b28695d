#include "models/import/registry.hpp"

#include <clcp/build_info.hpp>
#include <fmt/format.h>

#include <cstdlib>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path default_registry_path() {
  if (const char* env = std::getenv("CLCP_WEIGHTS_REGISTRY")) return env;
  return fs::path(build_info::kSourceDir) / "models" / "registry.json";
}

fs::path default_user_config_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return fs::path(x) / "clcp-bench" / "weights.json";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".config" / "clcp-bench" / "weights.json";
  return {};
}

std::vector<RegistryInit> load_registry(const fs::path& path) {
  const json j = read_json(path);
  if (!j.contains("inits") || !j["inits"].is_object())
    fail("{}: expected an object 'inits' (name → entry); restore models/registry.json", path.string());
  std::vector<RegistryInit> out;
  for (const auto& [name, e] : j["inits"].items()) {
    try {
      RegistryInit r;
      r.name = name;
      r.description = e.value("description", "");
      r.released = e.value("released", true);
      r.files = e.at("files").get<std::vector<std::string>>();
      r.format = e.value("format", "");
      r.layout = e.value("layout", "");
      r.encoder = e.value("encoder", "image");
      r.sha256_prefix = e.value("sha256_prefix", "");
      if (r.encoder != "image" && r.encoder != "lidar")
        fail("{}: init '{}' has encoder '{}'; expected \"image\" or \"lidar\"", path.string(), name, r.encoder);
      if (e.contains("sha256") && !e["sha256"].is_null()) r.sha256 = e["sha256"].get<std::string>();
      r.obtain = e.at("obtain").get<std::string>();
      if (r.files.empty()) fail("{}: init '{}' lists no files; add at least one file name", path.string(), name);
      out.push_back(std::move(r));
    } catch (const json::exception& ex) {
      fail("{}: init '{}' is malformed ({}); expected files [str], obtain str, sha256 str|null", path.string(), name,
           ex.what());
    }
  }
  return out;
}

WeightsLookup& default_weights_lookup() {
  static WeightsLookup lookup = [] {
    WeightsLookup l;
    if (const char* env = std::getenv("CLCP_WEIGHTS_DIR"); env && *env) l.weights_dir = env;
    return l;
  }();
  return lookup;
}

ResolvedInit resolve_init(const std::string& init, const WeightsLookup& lookup) {
  ResolvedInit r;
  r.init = init;
  if (init == "random") {
    r.random = true;
    return r;
  }
  if (init.rfind("file:", 0) == 0) {
    r.path = init.substr(5);
    if (!fs::is_regular_file(r.path))
      fail("--init {}: weights file not found; check the path (a .safetensors or torch.save .pth of ViT-S/16)", init);
    return r;
  }
  const auto registry = load_registry(lookup.registry);
  const auto it = std::find_if(registry.begin(), registry.end(), [&](const auto& e) { return e.name == init; });
  if (it == registry.end()) {
    if (fs::is_regular_file(init)) {
      r.path = init;
      return r;
    }
    std::string known;
    for (const auto& e : registry) known += (known.empty() ? "" : ", ") + e.name;
    fail("--init {}: neither a known init ({}) nor an existing file; pass 'random', a registry name, file:PATH or a "
         "path",
         init, known);
  }
  r.entry = *it;
  if (!lookup.user_config.empty() && fs::is_regular_file(lookup.user_config)) {
    const json cfg = read_json(lookup.user_config);
    if (cfg.is_object() && cfg.contains(init)) {
      if (!cfg[init].is_string())
        fail("{}: '{}' must be a path string", lookup.user_config.string(), init);
      r.path = cfg[init].get<std::string>();
      if (!fs::is_regular_file(r.path))
        fail("--init {}: {} maps it to {}, which does not exist; fix the path there", init,
             lookup.user_config.string(), r.path.string());
      return r;
    }
  }
  if (!lookup.weights_dir.empty())
    for (const auto& f : it->files)
      if (fs::is_regular_file(lookup.weights_dir / f)) {
        r.path = lookup.weights_dir / f;
        return r;
      }
  const std::string where = lookup.weights_dir.empty() ? std::string("a folder passed as --weights-dir DIR")
                                                       : "--weights-dir " + lookup.weights_dir.string();
  if (!it->released)
    fail("--init {}: {}; then put {} into {} or pass --init file:PATH", init,
         it->obtain, it->files.front(), where);
  fail("--init {}: no weights file; put {} into {} (or map \"{}\" to its path in {}); {}", init, it->files.front(),
       where, init, lookup.user_config.empty() ? "~/.config/clcp-bench/weights.json" : lookup.user_config.string(),
       it->obtain);
}

std::optional<RegistryInit> match_registry_sha256(const std::string& sha256, const fs::path& registry) {
  for (const auto& e : load_registry(registry))
    if ((e.sha256 && *e.sha256 == sha256) ||
        (!e.sha256 && !e.sha256_prefix.empty() && sha256.rfind(e.sha256_prefix, 0) == 0))
      return e;
  return std::nullopt;
}

}  // namespace clcp
