#include "models/lidar/import_minkunet.hpp"

#include <fmt/format.h>

#include <regex>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/registry.hpp"
#include "suite/core/error.hpp"
#include "suite/core/hash.hpp"

namespace clcp::lidar {
namespace fs = std::filesystem;

namespace {

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Prefixes in front of the backbone names, by layout (first match wins).
const std::vector<std::pair<std::string, std::string>>& prefixes() {
  static const std::vector<std::pair<std::string, std::string>> p{
      {"point_cloud_encoder.model.backbone.", "clcp-lightning"},
      {"lidar_encoder.model.backbone.", "clcp-lightning"},
      {"backbone.", "mmdet3d-minkunet"},
      {"", "minkunet"}};
  return p;
}

int group_rank(const std::string& g) {
  if (g == "conv_input") return 0;
  if (starts(g, "encoder.")) return 10 + std::stoi(g.substr(8));
  if (starts(g, "decoder.")) return 20 + std::stoi(g.substr(8));
  return 100;
}

}  // namespace

bool looks_like_minkunet(const std::map<std::string, torch::Tensor>& file) {
  for (const auto& [k, v] : file)
    for (const auto& [prefix, layout] : prefixes())
      if (starts(k, prefix + "conv_input.")) return true;
  return false;
}

std::string minkunet_key_group(const std::string& key) {
  static const std::regex re(R"(^(encoder|decoder)\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(key, m, re)) return m[1].str() + "." + m[2].str();
  if (starts(key, "conv_input.")) return "conv_input";
  return "other";
}

MappedMinkUNet map_minkunet(const std::map<std::string, torch::Tensor>& file, const std::string& source) {
  MappedMinkUNet out;
  std::string prefix;
  for (const auto& [p, layout] : prefixes()) {
    if (file.count(p + "conv_input.0.net.0.kernel") || file.count(p + "conv_input.0.net.0.weight")) {
      prefix = p;
      out.layout = layout;
      break;
    }
  }
  if (out.layout.empty())
    fail("{}: no MinkUNet conv_input.0.net.0.kernel under any known prefix (backbone., point_cloud_encoder.model."
         "backbone., lidar_encoder.model.backbone., none); not a MinkUNet34-W32 checkpoint (clcp-bench weights "
         "inspect {})", source, source);
  for (const auto& [k, v] : file) {
    if (!starts(k, prefix) || (prefix.empty() && starts(k, "decode_head."))) {
      out.dropped.push_back(k);
      continue;
    }
    const std::string name = k.substr(prefix.size());
    if (name.size() >= 7 && name.compare(name.size() - 7, 7, ".weight") == 0 && v.dim() == 5)
      fail("{}: {} is a 5-D kernel {} — the spconv layout [Cout, k, k, k, Cin]; spconv and torchsparse MinkUNets are "
           "trained separately and not interchangeable (sparse_conv_reference.md §2.5); use the torchsparse "
           "checkpoint …-bef6cad0.pth", source, k, shape_str(v));
    out.tensors[name] = v;
  }
  const auto first = out.tensors.find("conv_input.0.net.0.kernel");
  if (first == out.tensors.end())
    fail("{}: conv_input.0.net.0.kernel missing (found conv_input.0.net.0.weight: a spconv or MinkowskiEngine "
         "layout, not interchangeable with the torchsparse MinkUNet, sparse_conv_reference.md §2.5)", source);
  const auto& k0 = first->second;
  if (k0.dim() != 3 || k0.size(0) != 27 || k0.size(1) != 4 || k0.size(2) != 32)
    fail("{}: conv_input.0.net.0.kernel is {}, MinkUNet34-W32 has [27,4,32]{}; use the W32 checkpoint "
         "(…semantickitti_20230512_233511-bef6cad0.pth)", source, shape_str(k0),
         k0.dim() == 3 && k0.size(0) == 27 && k0.size(1) == 4 ? fmt::format(" (this is a W{} model)", k0.size(2)) : "");
  std::sort(out.dropped.begin(), out.dropped.end());
  return out;
}

std::string minkunet_grouped_summary(const LoadReport& r) {
  std::map<std::pair<int, std::string>, std::map<std::string, std::vector<std::string>>> groups;
  auto add = [&](const char* kind, const std::string& key, const std::string& text) {
    const std::string g = minkunet_key_group(key);
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

namespace {

LoadReport check_against(const MinkUNetImpl& model, const MappedMinkUNet& w) {
  const auto sd = state_dict(model);
  LoadReport r;
  for (const auto& [k, v] : sd)
    if (!w.tensors.count(k)) r.missing.push_back(k);
  for (const auto& [k, v] : w.tensors) {
    const auto it = sd.find(k);
    if (it == sd.end())
      r.unexpected.push_back(k);
    else if (v.sizes() != it->second.sizes())
      r.shape_mismatch.push_back(fmt::format("{}: file {} vs model {}", k, shape_str(v), shape_str(it->second)));
    else if (v.is_floating_point() && !torch::isfinite(v).all().item<bool>())
      r.non_finite.push_back(k);
  }
  return r;
}

// mmdet/mmengine publish_model names files <stem>-<first 8 hex of sha256>.pth.
std::string name_sha_prefix(const fs::path& path) {
  static const std::regex re(R"(-([0-9a-f]{8})\.(pth|pt|ckpt)$)");
  std::smatch m;
  const std::string name = path.filename().string();
  return std::regex_search(name, m, re) ? m[1].str() : "";
}

}  // namespace

MappedMinkUNet load_minkunet_checked(MinkUNetImpl& model, const fs::path& path) {
  if (const std::string want = name_sha_prefix(path); !want.empty()) {
    const std::string sha = sha256_file(path);
    if (sha.rfind(want, 0) != 0)
      fail("{}: sha256 {} does not start with {} as the file name says; the download is incomplete or altered — "
           "download it again", path.string(), sha, want);
  }
  MappedMinkUNet w = map_minkunet(read_checkpoint(path).tensors, path.string());
  const LoadReport r = check_against(model, w);
  if (!r.ok())
    fail("{}: not a usable MinkUNet34-W32 state dict ({} layout): {}; check the file (clcp-bench weights inspect {})",
         path.string(), w.layout, minkunet_grouped_summary(r), path.string());
  load_state_dict(model, w.tensors, /*strict=*/true);
  return w;
}

std::vector<std::string> inspect_minkunet(const fs::path& path, const fs::path& registry) {
  std::vector<std::string> out;
  const CheckpointFile file = read_checkpoint(path);
  const size_t file_tensors = file.tensors.size();
  const MappedMinkUNet w = map_minkunet(file.tensors, path.string());
  out.push_back(fmt::format("file: {}", path.string()));
  out.push_back(fmt::format("format: {}{}", file.container,
                            file.wrapper.empty() ? "" : " (tensors under '" + file.wrapper + "')"));
  out.push_back(fmt::format("layout: {} (MinkUNet34-W32 lidar encoder, torchsparse 1.4.0 kernels [K, Cin, Cout])",
                            w.layout));
  out.push_back(fmt::format("tensors: {} in the file", file_tensors));
  if (!w.dropped.empty())
    out.push_back(fmt::format("dropped: {} keys ({}{})", w.dropped.size(),
                              fmt::join(w.dropped.begin(), w.dropped.begin() + std::min<size_t>(4, w.dropped.size()),
                                        ", "),
                              w.dropped.size() > 4 ? ", …" : ""));
  std::map<std::pair<int, std::string>, std::pair<int64_t, int64_t>> groups;  // tensors, learnable parameters
  int64_t params = 0, file_params = 0;
  for (const auto& [k, v] : file.tensors)  // learnable: every float tensor but the BN running statistics
    if (v.is_floating_point() && k.find("running_") == std::string::npos) file_params += v.numel();
  for (const auto& [k, v] : w.tensors) {
    const std::string g = minkunet_key_group(k);
    auto& e = groups[{group_rank(g), g}];
    ++e.first;
    const bool learnable = k.find("running_") == std::string::npos && k.find("num_batches_tracked") == std::string::npos;
    if (learnable) {
      e.second += v.numel();
      params += v.numel();
    }
  }
  for (const auto& [gk, e] : groups)
    out.push_back(fmt::format("group {}: {} tensors, {} parameters", gk.second, e.first, e.second));
  out.push_back(fmt::format("parameters: {} in the encoder ({} in the file, decode head included)", params,
                            file_params));
  const std::string sha = sha256_file(path);
  out.push_back(fmt::format("sha256: {}", sha));
  const std::string want = name_sha_prefix(path);
  if (!want.empty())
    out.push_back(fmt::format("file-name sha256 prefix {}: {}", want,
                              sha.rfind(want, 0) == 0 ? "matches" : "DOES NOT MATCH (incomplete or altered download)"));
  MinkUNet model;
  const LoadReport r = check_against(*model, w);
  if (const auto m = match_registry_sha256(sha, registry))
    out.push_back(fmt::format("registry: {} ({})", m->name, m->description));
  else
    out.push_back(r.ok() ? fmt::format("registry: unregistered MinkUNet34-W32 ({} layout)", w.layout)
                         : "registry: unregistered, not a loadable MinkUNet34-W32");
  out.push_back(r.ok() ? fmt::format("loads into MinkUNet34-W32: yes, all {} tensors", w.tensors.size())
                       : "loads into MinkUNet34-W32: no: " + minkunet_grouped_summary(r));
  return out;
}

}  // namespace clcp::lidar
