#include "suite/protocol/protocol.hpp"

#include <algorithm>
#include <clcp/build_info.hpp>
#include <cstdlib>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/protocol/json_reader.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/scales.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path protocols_dir() {
  if (const char* env = std::getenv("CLCP_PROTOCOLS_DIR")) return env;
  return fs::path(build_info::kSourceDir) / "protocols";
}

fs::path protocol_path(const std::string& name_or_path) {
  if (name_or_path.size() > 5 && name_or_path.ends_with(".json")) {
    if (!fs::exists(name_or_path)) fail("{}: protocol file not found; check the path", name_or_path);
    return name_or_path;
  }
  const fs::path p = protocols_dir() / (name_or_path + ".json");
  if (!fs::exists(p)) {
    std::string known;
    for (const auto& n : list_protocols()) known += (known.empty() ? "" : ", ") + n;
    fail("unknown protocol '{}': no {}; known protocols: {} (clcp-bench protocols lists them)", name_or_path,
         p.string(), known.empty() ? "none" : known);
  }
  return p;
}

std::vector<std::string> list_protocols() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(protocols_dir(), ec))
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> list_scales(const fs::path& file) {
  const json j = read_json(file);
  std::vector<std::pair<std::string, std::string>> out;
  if (j.contains("scales") && j["scales"].is_object())
    for (auto it = j["scales"].begin(); it != j["scales"].end(); ++it)
      out.emplace_back(it.key(), it.value().value("description", ""));
  return out;
}

namespace {

template <size_t N, typename T>
std::array<T, N> to_array(const std::vector<T>& v) {
  std::array<T, N> a{};
  std::copy_n(v.begin(), N, a.begin());
  return a;
}

void require(bool ok, const std::string& where, const std::string& key, const std::string& expectation) {
  if (!ok) fail("{}: key '{}' {}; fix the value", where, key, expectation);
}

}  // namespace

Protocol load_protocol(const std::string& name_or_path, const std::string& scale, const ProtocolOverrides& overrides) {
  const fs::path file = protocol_path(name_or_path);
  return protocol_from_json(read_json(file), file, scale, overrides);
}

Protocol protocol_from_json(json j, const fs::path& file, const std::string& scale,
                            const ProtocolOverrides& overrides) {
  const std::string where = file.string();
  ScaledJson scaled = apply_scale(std::move(j), scale, where);
  apply_overrides(scaled.merged, overrides, where);
  const json& merged = scaled.merged;
  Protocol p;
  p.overrides = overrides;
  p.scale = scale;
  p.scale_description = scaled.description;
  StrictObject r(merged, where);
  const std::string schema = r.string("schema");
  if (schema != "clcp-bench/protocol/1")
    fail("{}: key 'schema' is '{}', expected 'clcp-bench/protocol/1'; this build reads protocol schema 1", where, schema);
  p.file = file;
  p.name = r.string("name");
  p.version = r.integer("version");
  p.description = r.string("description");
  {
    auto s = r.object("source");
    p.source_dataset = s.string("dataset");
    p.source_train_split = s.string("train_split");
    p.source_eval_split = s.string("eval_split");
    s.finish();
    require(p.source_dataset == "cityscapes", where, "source.dataset", "must be \"cityscapes\" in schema 1");
  }
  {
    auto t = r.object("target");
    p.target_dataset = t.string("dataset");
    p.target_split = t.string("split");
    p.target_conditions = t.strings("conditions");
    t.finish();
    require(p.target_dataset == "acdc", where, "target.dataset", "must be \"acdc\" in schema 1");
    for (const auto& c : p.target_conditions)
      require(c == "fog" || c == "night" || c == "rain" || c == "snow", where, "target.conditions",
              "must list ACDC conditions among fog, night, rain, snow");
  }
  {
    auto m = r.object("model");
    p.model_name = m.string("name");
    p.num_classes = m.integer("num_classes");
    p.img_size = m.integer("img_size");
    p.backbone_drop_path_rate = m.number("backbone_drop_path_rate");
    p.head_drop_path_rate = m.number("head_drop_path_rate");
    m.finish();
    require(p.model_name == "segmenter_vit_s16_mask", where, "model.name", "must be \"segmenter_vit_s16_mask\"");
    require(p.num_classes == 19, where, "model.num_classes", "must be 19 (Cityscapes trainIds)");
    // The thesis's 224 (14x14 grid); reduced scales may train smaller square inputs (any multiple of the patch, 16).
    require(p.img_size >= 32 && p.img_size <= 1024 && p.img_size % 16 == 0, where, "model.img_size",
            "must be a multiple of 16 in [32, 1024] (224 for ViT-S/16 as the thesis)");
  }
  p.inits = r.strings("inits");
  p.finetune_modes = r.strings("finetune_modes");
  p.seeds = r.integers("seeds");
  require(!p.inits.empty(), where, "inits", "must list at least one init");
  require(!p.seeds.empty(), where, "seeds", "must list at least one seed");
  for (const auto& m : p.finetune_modes)
    require(m == "full" || m == "frozen", where, "finetune_modes", "must contain only \"full\" or \"frozen\"");
  {
    auto o = r.object("optimizer");
    require(o.string("type") == "sgd", where, "optimizer.type", "must be \"sgd\"");
    p.lr = o.number("lr");
    p.momentum = o.number("momentum");
    p.weight_decay = o.number("weight_decay");
    o.finish();
    require(p.lr > 0, where, "optimizer.lr", "must be > 0");
  }
  {
    auto s = r.object("schedule");
    require(s.string("type") == "poly", where, "schedule.type", "must be \"poly\"");
    p.poly_power = s.number("power");
    p.eta_min = s.number("eta_min");
    s.finish();
  }
  {
    auto t = r.object("train");
    p.max_iters = t.integer("max_iters");
    p.batch_size = t.integer("batch_size");
    p.checkpoint_interval = t.integer("checkpoint_interval");
    p.log_interval = t.integer("log_interval");
    if (t.has("precision")) p.precision = t.string("precision");
    t.finish();
    require(p.precision == "fp32" || p.precision == "bf16", where, "train.precision", "must be \"fp32\" or \"bf16\"");
    require(p.max_iters >= 1, where, "train.max_iters", "must be >= 1");
    require(p.batch_size >= 1, where, "train.batch_size", "must be >= 1");
    require(p.checkpoint_interval >= 1, where, "train.checkpoint_interval", "must be >= 1");
    require(p.log_interval >= 1, where, "train.log_interval", "must be >= 1");
  }
  {
    auto q = r.object("pipeline");
    p.pipeline.resize_scale = to_array<2>(q.integers("resize_scale", 2));
    p.pipeline.ratio_range = to_array<2>(q.numbers("ratio_range", 2));
    p.pipeline.crop = to_array<2>(q.integers("crop", 2));
    p.pipeline.cat_max_ratio = q.number("cat_max_ratio");
    p.pipeline.flip_prob = q.number("flip_prob");
    p.pipeline.photometric = q.boolean("photometric");
    p.pipeline.mean = to_array<3>(q.numbers("mean", 3));
    p.pipeline.std = to_array<3>(q.numbers("std", 3));
    q.finish();
    require(p.pipeline.crop[0] == p.img_size && p.pipeline.crop[1] == p.img_size, where, "pipeline.crop",
            fmt::format("must equal the model's img_size ({0}x{0})", p.img_size));
  }
  {
    auto q = r.object("inference");
    p.inference.resize_scale = to_array<2>(q.integers("resize_scale", 2));
    p.inference.crop = to_array<2>(q.integers("crop", 2));
    p.inference.stride = to_array<2>(q.integers("stride", 2));
    p.inference.batch_windows = q.integer("batch_windows");
    q.finish();
    require(p.inference.crop[0] == p.img_size && p.inference.crop[1] == p.img_size, where, "inference.crop",
            fmt::format("must equal the model's img_size ({0}x{0})", p.img_size));
    require(p.inference.stride[0] >= 1 && p.inference.stride[1] >= 1, where, "inference.stride", "must be >= 1");
  }
  {
    auto m = r.object("metrics");
    p.ignore_index = m.integer("ignore_index");
    p.target_aggregate = m.string("target_aggregate");
    m.finish();
    require(p.ignore_index == 255, where, "metrics.ignore_index", "must be 255");
    require(p.target_aggregate == "pooled", where, "metrics.target_aggregate", "must be \"pooled\" (as the thesis)");
  }
  p.decisions = r.raw("decisions");
  if (r.has("pretrain") && !r.raw("pretrain").is_null()) {
    auto q = r.object("pretrain");
    const std::string name = q.string("protocol"), sc = q.string("scale");
    q.finish();
    p.bind_pretrain(name, sc);
  }
  if (r.has("report") && !r.raw("report").is_null()) {
    auto q = r.object("report");
    p.report = json{{"baseline", q.string("baseline")}, {"published_rows", json::object()}};
    if (q.has("published_rows")) {
      const json& rows = q.raw("published_rows");
      require(rows.is_object(), where, "report.published_rows", "must be an object {\"<init>\": \"<published experiment>\"}");
      for (const auto& [init, label] : rows.items()) {
        require(label.is_string(), where, "report.published_rows." + init, "must be a string (a baseline row's experiment)");
        require(std::find(p.inits.begin(), p.inits.end(), init) != p.inits.end(), where,
                "report.published_rows." + init, "must name one of the protocol's inits");
        p.report["published_rows"][init] = label;
      }
    }
    q.finish();
  }
  if (r.has("controls") && !r.raw("controls").is_null()) {
    auto q = r.object("controls");
    for (const char* role : {"positive", "negative"}) {
      if (!q.has(role)) continue;
      auto& list = std::string(role) == "positive" ? p.positive_controls : p.negative_controls;
      list = q.strings(role);
      for (const auto& init : list)
        if (std::find(p.inits.begin(), p.inits.end(), init) == p.inits.end())
          fail("{}: key 'controls.{}' names '{}', which is not one of this scale's inits; add it to \"inits\" or "
               "remove it",
               where, role, init);
    }
    q.finish();
  }
  r.allow("report");
  r.allow("controls");
  r.allow("pretrain");
  r.allow("scales");
  r.finish();
  return p;
}

json Protocol::recipe_json() const {
  json recipe = json{
      {"protocol", name},
      {"version", version},
      {"scale", scale},
      {"source", {{"dataset", source_dataset}, {"train_split", source_train_split}, {"eval_split", source_eval_split}}},
      {"target", {{"dataset", target_dataset}, {"split", target_split}, {"conditions", target_conditions}}},
      {"model",
       {{"name", model_name},
        {"num_classes", num_classes},
        {"img_size", img_size},
        {"backbone_drop_path_rate", backbone_drop_path_rate},
        {"head_drop_path_rate", head_drop_path_rate}}},
      {"optimizer", {{"type", "sgd"}, {"lr", lr}, {"momentum", momentum}, {"weight_decay", weight_decay}}},
      {"schedule", {{"type", "poly"}, {"power", poly_power}, {"eta_min", eta_min}}},
      {"train",
       {{"max_iters", max_iters},
        {"batch_size", batch_size},
        {"checkpoint_interval", checkpoint_interval},
        {"log_interval", log_interval}}},
      {"pipeline",
       {{"resize_scale", pipeline.resize_scale},
        {"ratio_range", pipeline.ratio_range},
        {"crop", pipeline.crop},
        {"cat_max_ratio", pipeline.cat_max_ratio},
        {"flip_prob", pipeline.flip_prob},
        {"photometric", pipeline.photometric},
        {"mean", pipeline.mean},
        {"std", pipeline.std}}},
      {"inference",
       {{"resize_scale", inference.resize_scale},
        {"crop", inference.crop},
        {"stride", inference.stride},
        {"batch_windows", inference.batch_windows}}},
      {"metrics", {{"ignore_index", ignore_index}, {"target_aggregate", target_aggregate}}},
  };
  if (!pretrain.is_null()) recipe["pretrain"] = pretrain;
  if (precision != "fp32") recipe["train"]["precision"] = precision;  // absent at fp32: older fingerprints stay
  return recipe;
}

json Protocol::to_json() const {
  json j = recipe_json();
  j["fingerprint"] = fingerprint();
  j["inits"] = inits;
  j["finetune_modes"] = finetune_modes;
  j["seeds"] = seeds;
  j["decisions"] = decisions;
  j["file"] = file.filename().string();
  if (!report.is_null()) j["report"] = report;  // only where set: the plans of other protocols keep their bytes
  if (!positive_controls.empty() || !negative_controls.empty())
    j["controls"] = {{"positive", positive_controls}, {"negative", negative_controls}};
  if (!overrides.empty()) j["set"] = override_strings(overrides);  // read back by `run --plan`
  return j;
}

void Protocol::bind_pretrain(const std::string& protocol, const std::string& pretrain_scale) {
  const auto pp = load_pretrain_protocol(protocol, pretrain_scale);
  pretrain = {{"protocol", pp.name}, {"scale", pp.scale}, {"fingerprint", pp.fingerprint()}};
}

std::string Protocol::fingerprint() const { return sha256_hex(canonical_json(recipe_json())).substr(0, 16); }

}  // namespace clcp
