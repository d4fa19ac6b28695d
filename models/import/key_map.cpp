#include "models/import/key_map.hpp"

#include <fmt/format.h>

#include <regex>

#include "models/state_dict.hpp"
#include "models/vit.hpp"
#include "suite/core/error.hpp"

namespace clcp {

namespace {

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

using Dict = std::map<std::string, torch::Tensor>;

bool any_starts(const Dict& d, const std::string& p) {
  for (const auto& [k, v] : d)
    if (starts(k, p)) return true;
  return false;
}

// Keeps the keys under `prefix` (stripped); every other key goes to `dropped`.
Dict take_prefix(const Dict& d, const std::string& prefix, std::vector<std::string>& dropped) {
  Dict out;
  for (const auto& [k, v] : d) {
    if (starts(k, prefix))
      out[k.substr(prefix.size())] = v;
    else
      dropped.push_back(k);
  }
  return out;
}

// mmseg VisionTransformer name → timm name (the inverse of vit2mmseg, mmseg_reference.md §2.1).
std::string mmseg_to_timm(const std::string& k) {
  static const std::regex layer(R"(^layers\.(\d+)\.(.+)$)");
  std::smatch m;
  if (std::regex_match(k, m, layer)) {
    const std::string i = m[1], rest = m[2];
    static const std::vector<std::pair<std::string, std::string>> sub = {
        {"ln1.", "norm1."},
        {"ln2.", "norm2."},
        {"attn.attn.in_proj_weight", "attn.qkv.weight"},
        {"attn.attn.in_proj_bias", "attn.qkv.bias"},
        {"attn.attn.out_proj.", "attn.proj."},
        {"ffn.layers.0.0.", "mlp.fc1."},
        {"ffn.layers.1.", "mlp.fc2."}};
    for (const auto& [from, to] : sub)
      if (starts(rest, from)) return "blocks." + i + "." + to + rest.substr(from.size());
    return "blocks." + i + "." + rest;
  }
  if (starts(k, "ln1.")) return "norm." + k.substr(4);
  if (starts(k, "patch_embed.projection.")) return "patch_embed.proj." + k.substr(23);
  return k;
}

// Refuses weights of another ViT with one line, before the key-level preflight.
void check_vit_s16(const Dict& d, const std::string& source) {
  const auto expect = [&](const char* key, std::vector<int64_t> want, const char* what) {
    const auto it = d.find(key);
    if (it != d.end() && it->second.sizes().vec() != want)
      fail("{}: {} is {} ({}), expected {}; clcp-bench's encoder is ViT-S/16 (timm vit_small_patch16_224)", source,
           key, shape_str(it->second), what, fmt::format("[{}]", fmt::join(want, ",")));
  };
  expect("patch_embed.proj.weight", {384, 3, 16, 16}, "embed dim, input channels, patch size");
  expect("cls_token", {1, 1, 384}, "embed dim");
  static const std::regex block(R"(^blocks\.(\d+)\.)");
  int64_t depth = 0;
  for (const auto& [k, v] : d) {
    std::smatch m;
    if (std::regex_search(k, m, block)) depth = std::max<int64_t>(depth, std::stoll(m[1]) + 1);
  }
  if (depth > 12)
    fail("{}: the weights have {} transformer blocks, expected 12; clcp-bench's encoder is ViT-S/16 (timm "
         "vit_small_patch16_224)",
         source, depth);
}

}  // namespace

std::string vit_key_group(const std::string& k) {
  if (starts(k, "patch_embed.")) return "patch_embed";
  if (k == "pos_embed" || k == "cls_token") return "pos_embed/cls_token";
  static const std::regex block(R"(^blocks\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(k, m, block)) return "blocks." + std::string(m[1]);
  if (starts(k, "norm.")) return "norm";
  return "other";
}

MappedWeights map_to_timm_vit(const Dict& file_in, int64_t grid, const std::string& source) {
  MappedWeights out;
  Dict d = file_in;
  std::string suffix;
  if (!d.empty() && std::all_of(d.begin(), d.end(), [](const auto& kv) { return starts(kv.first, "module."); })) {
    Dict s;
    for (const auto& [k, v] : d) s[k.substr(7)] = v;
    d.swap(s);
    suffix = "+module";
  }
  if (any_starts(d, "image_encoder.model.")) {
    out.layout = "clcp-lightning";
    d = take_prefix(d, "image_encoder.model.", out.dropped);
  } else if (any_starts(d, "encoder_camera.model.")) {
    out.layout = "liploc";
    d = take_prefix(d, "encoder_camera.model.", out.dropped);
  } else if (any_starts(d, "backbone.timm_model.")) {
    out.layout = "mmpretrain-timm";
    d = take_prefix(d, "backbone.timm_model.", out.dropped);
  } else if (any_starts(d, "backbone.")) {
    out.layout = "backbone.";
    d = take_prefix(d, "backbone.", out.dropped);
  } else if (any_starts(d, "model.") && std::all_of(d.begin(), d.end(), [](const auto& kv) {
               return starts(kv.first, "model.") || starts(kv.first, "fc.");
             })) {
    out.layout = "liploc";  // LIP-Loc's camera encoder on its own: model.<timm> + fc (Linear 384→2048)
    d = take_prefix(d, "model.", out.dropped);
  }
  const bool mmseg = any_starts(d, "layers.") || any_starts(d, "patch_embed.projection.") || d.count("ln1.weight");
  if (mmseg) {
    Dict s;
    for (const auto& [k, v] : d) s[mmseg_to_timm(k)] = v;
    d.swap(s);
    if (d.count("patch_embed.proj.weight") && !d.count("patch_embed.proj.bias")) {
      d["patch_embed.proj.bias"] = torch::zeros({d["patch_embed.proj.weight"].size(0)},
                                                d["patch_embed.proj.weight"].options());
      out.notes.push_back("patch_embed.proj.bias absent (mmseg >= 1.2 patch_bias=False): zeros, the same function");
    }
    out.layout = "mmseg-vit";
  } else if (out.layout.empty() || out.layout == "backbone.") {
    out.layout = out.layout.empty() ? "timm" : "timm (backbone.)";
  }
  for (auto it = d.begin(); it != d.end();) {
    if (starts(it->first, "head.")) {  // the ImageNet classifier; the thesis resets it (clcp_reference.md §2)
      out.dropped.push_back(it->first);
      it = d.erase(it);
    } else {
      ++it;
    }
  }
  check_vit_s16(d, source);
  if (auto it = d.find("pos_embed"); it != d.end() && it->second.dim() == 3 && it->second.size(1) != 1 + grid * grid) {
    const int64_t old_tokens = it->second.size(1);
    it->second = resize_pos_embed(it->second, grid);
    const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(old_tokens - 1))));
    out.notes.push_back(fmt::format("pos_embed resized {}x{} -> {}x{} (bicubic, antialias, as timm)", g, g, grid, grid));
  }
  out.layout += suffix;
  std::sort(out.dropped.begin(), out.dropped.end());
  out.tensors = std::move(d);
  return out;
}

MappedWeights map_segmenter(const Dict& file_in, int64_t grid, const std::string& source) {
  Dict d = file_in;
  if (!d.empty() && std::all_of(d.begin(), d.end(), [](const auto& kv) { return starts(kv.first, "module."); })) {
    Dict s;
    for (const auto& [k, v] : d) s[k.substr(7)] = v;
    d.swap(s);
  }
  Dict backbone, head;
  std::vector<std::string> dropped;
  for (const auto& [k, v] : d) {
    if (starts(k, "decode_head.conv_seg.")) {
      dropped.push_back(k);  // BaseDecodeHead's conv_seg, unused by the mask head (mmseg v0.x kept it)
    } else if (starts(k, "decode_head.")) {
      head[k] = v;
    } else if (starts(k, "backbone.")) {
      backbone[k] = v;
    } else {
      dropped.push_back(k);
    }
  }
  if (backbone.empty())
    fail("{}: no backbone.* keys; expected a finetuned Segmenter (backbone.* + decode_head.*)", source);
  MappedWeights bb = map_to_timm_vit(backbone, grid, source);
  MappedWeights out;
  out.layout = "segmenter/" + bb.layout;
  for (auto& [k, v] : bb.tensors) out.tensors["backbone." + k] = v;
  for (auto& [k, v] : head) out.tensors[k] = v;
  out.dropped = std::move(dropped);
  out.dropped.insert(out.dropped.end(), bb.dropped.begin(), bb.dropped.end());
  std::sort(out.dropped.begin(), out.dropped.end());
  out.notes = bb.notes;
  return out;
}

}  // namespace clcp
