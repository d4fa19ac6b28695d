#include "models/import/import_weights.hpp"

#include <fmt/format.h>

#include "models/import/registry.hpp"
#include "suite/core/error.hpp"
#include "suite/core/hash.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {

// Model order of the groups; "other" last.
int group_rank(const std::string& g) {
  if (g == "patch_embed") return 0;
  if (g == "pos_embed/cls_token") return 1;
  if (g.rfind("blocks.", 0) == 0) return 10 + std::stoi(g.substr(7));
  if (g == "norm") return 1000;
  return 1001;
}

std::string strip_backbone(const std::string& k) { return k.rfind("backbone.", 0) == 0 ? k.substr(9) : k; }


}  // namespace

ImportedWeights import_vit_weights(const fs::path& path, int64_t grid) {
  ImportedWeights w;
  w.file = read_checkpoint(path);
  w.mapped = map_to_timm_vit(w.file.tensors, grid, path.string());
  w.file.tensors.clear();
  return w;
}

std::string grouped_summary(const LoadReport& r) {
  // group → kind → keys
  std::map<std::pair<int, std::string>, std::map<std::string, std::vector<std::string>>> groups;
  auto add = [&](const char* kind, const std::string& key, const std::string& text) {
    const std::string g = vit_key_group(strip_backbone(key));
    groups[{group_rank(g), g}][kind].push_back(text);
  };
  for (const auto& k : r.missing) add("missing", k, k);
  for (const auto& k : r.unexpected) add("unexpected", k, k);
  for (const auto& s : r.shape_mismatch) add("shape mismatches", s.substr(0, s.find(':')), s);
  for (const auto& k : r.non_finite) add("non-finite", k, k);
  std::vector<std::string> parts;
  for (const auto& [gk, kinds] : groups) {
    std::vector<std::string> ks;
    for (const auto& [kind, items] : kinds) {
      std::string s = fmt::format("{} {} ({}", items.size(), kind, items[0]);
      if (items.size() > 1) s += ", " + items[1];
      if (items.size() > 2) s += fmt::format(", +{} more", items.size() - 2);
      ks.push_back(s + ")");
    }
    parts.push_back(fmt::format("{}: {}", gk.second, fmt::join(ks, ", ")));
  }
  return parts.empty() ? "all tensors match" : fmt::format("{}", fmt::join(parts, "; "));
}

void load_vit_checked(VisionTransformerImpl& vit, const MappedWeights& w, const std::string& source) {
  // Check first on a throw-away copy of the names/shapes: load_state_dict(strict=true) throws before copying.
  auto model = state_dict(vit);
  LoadReport r;
  for (const auto& [k, v] : model)
    if (!w.tensors.count(k)) r.missing.push_back(k);
  for (const auto& [k, v] : w.tensors) {
    const auto it = model.find(k);
    if (it == model.end()) {
      r.unexpected.push_back(k);
    } else if (v.sizes() != it->second.sizes()) {
      r.shape_mismatch.push_back(fmt::format("{}: file {} vs model {}", k, shape_str(v), shape_str(it->second)));
    } else if (v.is_floating_point() && !torch::isfinite(v).all().item<bool>()) {
      r.non_finite.push_back(k);
    }
  }
  if (!r.ok())
    fail("{}: not a usable ViT-S/16 state dict ({} layout): {}; check the file (clcp-bench weights inspect {})",
         source, w.layout, grouped_summary(r), source);
  load_state_dict(vit, w.tensors, true);
}

std::vector<std::string> inspect_weights(const fs::path& path, const fs::path& registry) {
  std::vector<std::string> out;
  ImportedWeights w = import_vit_weights(path);
  out.push_back(fmt::format("file: {}", path.string()));
  out.push_back(fmt::format("format: {}{}", w.file.container,
                            w.file.wrapper.empty() ? "" : " (tensors under '" + w.file.wrapper + "')"));
  out.push_back(fmt::format("layout: {}", w.mapped.layout));
  if (!w.mapped.dropped.empty()) {
    std::string s = fmt::format("dropped: {} keys (", w.mapped.dropped.size());
    for (size_t i = 0; i < w.mapped.dropped.size() && i < 4; ++i) s += (i ? ", " : "") + w.mapped.dropped[i];
    out.push_back(s + (w.mapped.dropped.size() > 4 ? ", …)" : ")"));
  }
  for (const auto& n : w.mapped.notes) out.push_back("note: " + n);
  if (!w.file.placeholders.empty())
    out.push_back(fmt::format("placeholders: {} (Python classes in the pickle, ignored)",
                              fmt::join(w.file.placeholders, ", ")));
  std::map<std::pair<int, std::string>, std::vector<std::pair<std::string, torch::Tensor>>> groups;
  int64_t params = 0;
  for (const auto& [k, v] : w.mapped.tensors) {
    const std::string g = vit_key_group(k);
    groups[{group_rank(g), g}].emplace_back(k, v);
    params += v.numel();
  }
  std::string block0;  // blocks with the same names and shapes as blocks.0 print "(as blocks.0)"
  for (const auto& [gk, items] : groups) {
    std::vector<std::string> ss;
    int64_t n = 0;
    for (const auto& [k, v] : items) {
      const std::string rel = (gk.second == "other" || gk.second == "pos_embed/cls_token" ||
                               k.size() <= gk.second.size())
                                  ? k
                                  : k.substr(gk.second.size() + 1);
      ss.push_back(fmt::format("{} {}", rel, shape_str(v)));
      n += v.numel();
    }
    const std::string layout = fmt::format("{}", fmt::join(ss, ", "));
    if (gk.second == "blocks.0") block0 = layout;
    const bool same = gk.second.rfind("blocks.", 0) == 0 && gk.second != "blocks.0" && layout == block0;
    out.push_back(fmt::format("group {}: {} tensors, {} parameters{}", gk.second, items.size(), n,
                              same ? " (as blocks.0)" : ": " + layout));
  }
  out.push_back(fmt::format("parameters: {}", params));
  const std::string sha = sha256_file(path);
  out.push_back(fmt::format("sha256: {}", sha));
  std::string check;
  try {
    VisionTransformer vit;
    load_vit_checked(*vit, w.mapped, path.string());
    check = "ok";
  } catch (const UserError& e) {
    check = e.what();
  }
  if (const auto m = match_registry_sha256(sha, registry))
    out.push_back(fmt::format("registry: {} ({})", m->name, m->description));
  else if (check == "ok")
    out.push_back(fmt::format("registry: unregistered ViT-S/16 ({} layout)", w.mapped.layout));
  else
    out.push_back("registry: unregistered, not a loadable ViT-S/16");
  out.push_back(check == "ok" ? fmt::format("loads into ViT-S/16: yes, all {} tensors", w.mapped.tensors.size())
                              : "loads into ViT-S/16: no: " + check);
  return out;
}

}  // namespace clcp
