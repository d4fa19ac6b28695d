#include "suite/protocol/pretrain_protocol.hpp"

#include <algorithm>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/protocol/json_reader.hpp"
#include "suite/protocol/protocol.hpp"
#include "suite/protocol/scales.hpp"

namespace clcp {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void expect(bool ok, const std::string& where, const std::string& key, const std::string& expectation) {
  if (!ok) fail("{}: key '{}' {}; fix the value", where, key, expectation);
}

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

}  // namespace

std::string protocol_schema(const std::string& name_or_path) {
  const json j = read_json(protocol_path(name_or_path));
  return j.is_object() && j.contains("schema") && j["schema"].is_string() ? j["schema"].get<std::string>() : "";
}

PretrainProtocol load_pretrain_protocol(const std::string& name_or_path, const std::string& scale,
                                        const ProtocolOverrides& overrides) {
  const auto file = protocol_path(name_or_path);
  return pretrain_protocol_from_json(read_json(file), file, scale, overrides);
}

PretrainProtocol pretrain_protocol_from_json(json j, const fs::path& file, const std::string& scale,
                                             const ProtocolOverrides& overrides) {
  const std::string where = file.string();
  ScaledJson scaled = apply_scale(std::move(j), scale, where);
  apply_overrides(scaled.merged, overrides, where);
  PretrainProtocol p;
  p.overrides = overrides;
  p.file = file;
  p.scale = scale;
  p.scale_description = scaled.description;
  StrictObject r(scaled.merged, where);
  const std::string schema = r.string("schema");
  if (schema != "clcp-bench/pretrain-protocol/1")
    fail("{}: key 'schema' is '{}', expected 'clcp-bench/pretrain-protocol/1' (a pretraining protocol); use "
         "'clcp-bench run' for finetune protocols", where, schema);
  p.name = r.string("name");
  p.version = r.integer("version");
  p.description = r.string("description");
  if (r.has("method")) p.method = r.string("method");
  if (p.method == "clcp") {
    {
      auto d = r.object("data");
      p.dataset = d.string("dataset");
      p.val_ratio = d.number("val_ratio");
      const auto crop = d.integers("crop", 2);
      p.crop = {crop[0], crop[1]};
      p.image_size = d.integer("image_size");
      p.reflectance = d.string("reflectance");
      const auto m = d.numbers("mean", 3), s = d.numbers("std", 3);
      p.mean = {m[0], m[1], m[2]};
      p.std = {s[0], s[1], s[2]};
      p.augment = d.boolean("augment");
      if (d.has("pairing")) p.pairing = d.string("pairing");
      d.finish();
      expect(p.dataset == "a2d2", where, "data.dataset", "must be \"a2d2\" in schema 1");
      expect(p.val_ratio >= 0 && p.val_ratio <= 0.5, where, "data.val_ratio", "must be in [0, 0.5]");
      expect(p.crop[0] >= 16 && p.crop[1] >= 16, where, "data.crop", "must be at least 16x16 pixels");
      expect(p.image_size == 224, where, "data.image_size", "must be 224 (ViT-S/16)");
      expect(one_of(p.reflectance, {"raw", "unit"}), where, "data.reflectance", "must be \"raw\" or \"unit\"");
      expect(one_of(p.pairing, {"true", "shuffled"}), where, "data.pairing", "must be \"true\" or \"shuffled\"");
    }
    {
      auto m = r.object("model");
      expect(m.string("image_encoder") == "vit_small_patch16_224", where, "model.image_encoder",
              "must be \"vit_small_patch16_224\"");
      expect(m.string("lidar_encoder") == "minkunet34_w32", where, "model.lidar_encoder", "must be \"minkunet34_w32\"");
      p.head = m.string("head");
      p.embed_dim = m.integer("embed_dim");
      p.voxel_size = m.number("voxel_size");
      p.mlp_dropout = m.number("mlp_dropout");
      p.lidar_mode = m.string("lidar");
      p.lidar_bn = m.string("lidar_bn");
      p.temperature = m.string("temperature");
      p.temperature_init = m.number("temperature_init");
      m.finish();
      expect(one_of(p.head, {"linear", "mlp"}), where, "model.head", "must be \"linear\" or \"mlp\"");
      expect(p.embed_dim == 384, where, "model.embed_dim", "must be 384");
      expect(p.voxel_size > 0, where, "model.voxel_size", "must be > 0 (metres)");
      expect(p.mlp_dropout >= 0 && p.mlp_dropout < 1, where, "model.mlp_dropout", "must be in [0, 1)");
      expect(one_of(p.lidar_mode, {"trainable", "frozen"}), where, "model.lidar", "must be \"trainable\" or \"frozen\"");
      expect(one_of(p.lidar_bn, {"train", "eval"}), where, "model.lidar_bn", "must be \"train\" or \"eval\"");
      expect(one_of(p.temperature, {"inv_exp", "clip"}), where, "model.temperature", "must be \"inv_exp\" or \"clip\"");
      expect(p.temperature_init > 0, where, "model.temperature_init", "must be > 0");
    }
    {
      auto i = r.object("inits");
      p.image_init = i.string("image");
      p.lidar_init = i.string("lidar");
      i.finish();
    }
  } else {
    // An image-only method: the common data keys, the image encoder, one init; its own keys in method_config
    // (validated by the method, suite/pretrain/methods/registry.hpp).
    auto d = r.object("data");
    p.dataset = d.string("dataset");
    p.val_ratio = d.number("val_ratio");
    p.image_size = d.integer("image_size");
    const auto m = d.numbers("mean", 3), s = d.numbers("std", 3);
    p.mean = {m[0], m[1], m[2]};
    p.std = {s[0], s[1], s[2]};
    d.finish();
    expect(p.dataset == "a2d2" || p.dataset == "images", where, "data.dataset",
           "must be \"a2d2\" (the A2D2 camera frames) or \"images\" (a folder of images, --data-root)");
    expect(p.val_ratio >= 0 && p.val_ratio <= 0.5, where, "data.val_ratio", "must be in [0, 0.5]");
    expect(p.image_size == 224, where, "data.image_size", "must be 224 (ViT-S/16)");
    auto mo = r.object("model");
    expect(mo.string("image_encoder") == "vit_small_patch16_224", where, "model.image_encoder",
           "must be \"vit_small_patch16_224\"");
    mo.finish();
    auto i = r.object("inits");
    p.image_init = i.string("image");
    i.finish();
    p.lidar_init = "random";
    p.method_config = r.raw("method_config");
    expect(p.method_config.is_object(), where, "method_config", "must be an object (the method's own settings)");
  }
  {
    auto o = r.object("optimizer");
    expect(o.string("type") == "adamw", where, "optimizer.type", "must be \"adamw\"");
    p.lr = o.number("lr");
    p.weight_decay = o.number("weight_decay");
    const auto b = o.numbers("betas", 2);
    p.beta1 = b[0];
    p.beta2 = b[1];
    p.eps = o.number("eps");
    o.finish();
    expect(p.lr > 0, where, "optimizer.lr", "must be > 0");
    expect(p.weight_decay >= 0, where, "optimizer.weight_decay", "must be >= 0");
    expect(p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1, where, "optimizer.betas", "must be in [0, 1)");
    expect(p.eps > 0, where, "optimizer.eps", "must be > 0");
  }
  {
    auto s = r.object("schedule");
    expect(s.string("type") == "linear_warmup_cosine_restarts", where, "schedule.type",
            "must be \"linear_warmup_cosine_restarts\"");
    expect(s.string("step") == "epoch", where, "schedule.step", "must be \"epoch\" (the thesis steps once per epoch)");
    p.warmup_epochs = s.integer("warmup_epochs");
    p.warmup_start_lr = s.number("warmup_start_lr");
    p.t_0 = s.integer("T_0");
    p.t_mult = s.integer("T_mult");
    p.eta_min = s.number("eta_min");
    s.finish();
    expect(p.warmup_epochs >= 0, where, "schedule.warmup_epochs", "must be >= 0");
    expect(p.warmup_start_lr > 0 && p.warmup_start_lr <= p.lr, where, "schedule.warmup_start_lr",
            "must be in (0, optimizer.lr]");
    expect(p.t_0 >= 1 && p.t_mult >= 1, where, "schedule.T_0/T_mult", "must be >= 1 (PyTorch)");
    expect(p.eta_min >= 0 && p.eta_min < p.lr, where, "schedule.eta_min", "must be in [0, optimizer.lr)");
  }
  {
    auto t = r.object("train");
    p.epochs = t.integer("epochs");
    p.batch_size = t.integer("batch_size");
    expect(t.boolean("drop_last"), where, "train.drop_last", "must be true (the thesis drops the last partial batch)");
    p.keep_epochs = t.integers("keep_epochs");
    p.limit_train_batches = t.integer("limit_train_batches");
    p.limit_val_batches = t.integer("limit_val_batches");
    if (t.has("precision")) p.precision = t.string("precision");
    t.finish();
    expect(p.precision == "fp32" || p.precision == "bf16", where, "train.precision", "must be \"fp32\" or \"bf16\"");
    expect(p.limit_train_batches >= 0 && p.limit_val_batches >= 0, where, "train.limit_*_batches",
            "must be >= 0 (0 = every batch)");
    expect(p.epochs >= 1, where, "train.epochs", "must be >= 1");
    expect(p.batch_size >= 2, where, "train.batch_size", "must be >= 2 (a contrastive loss needs negatives)");
    for (const auto e : p.keep_epochs)
      expect(e >= 0 && e < p.epochs, where, "train.keep_epochs",
              fmt::format("holds epoch {}, outside the protocol's 0-based epochs 0..{}", e, p.epochs - 1));
  }
  if (p.method == "clcp") {
    auto q = r.object("retrieval");
    p.retrieval_ks = q.integers("ks");
    q.finish();
    for (const auto k : p.retrieval_ks) expect(k >= 1, where, "retrieval.ks", "must be >= 1");
  }
  p.seeds = r.integers("seeds");
  expect(!p.seeds.empty(), where, "seeds", "must list at least one seed");
  p.decisions = r.raw("decisions");
  r.allow("scales");
  r.finish();
  return p;
}

json PretrainProtocol::recipe_json() const {
  json r{{"protocol", name},
              {"version", version},
              {"scale", scale},
              {"data",
               {{"dataset", dataset},
                {"val_ratio", val_ratio},
                {"crop", crop},
                {"image_size", image_size},
                {"reflectance", reflectance},
                {"mean", mean},
                {"std", std},
                {"augment", augment}}},
              {"model",
               {{"head", head},
                {"embed_dim", embed_dim},
                {"voxel_size", voxel_size},
                {"mlp_dropout", mlp_dropout},
                {"lidar", lidar_mode},
                {"lidar_bn", lidar_bn},
                {"temperature", temperature},
                {"temperature_init", temperature_init}}},
              {"optimizer",
               {{"type", "adamw"}, {"lr", lr}, {"weight_decay", weight_decay}, {"betas", {beta1, beta2}}, {"eps", eps}}},
              {"schedule",
               {{"type", "linear_warmup_cosine_restarts"},
                {"step", "epoch"},
                {"warmup_epochs", warmup_epochs},
                {"warmup_start_lr", warmup_start_lr},
                {"T_0", t_0},
                {"T_mult", t_mult},
                {"eta_min", eta_min}}},
              {"train",
               {{"epochs", epochs},
                {"batch_size", batch_size},
                {"drop_last", true},
                {"keep_epochs", keep_epochs},
                {"limit_train_batches", limit_train_batches},
                {"limit_val_batches", limit_val_batches}}},
              {"retrieval", {{"ks", retrieval_ks}}}};
  if (pairing != "true") r["data"]["pairing"] = pairing;  // absent at its default: older fingerprints stay
  if (method != "clcp") {  // an image-only method: its own keys replace CLCP's
    r["method"] = method;
    r["method_config"] = method_config;
    r["data"] = {{"dataset", dataset}, {"val_ratio", val_ratio}, {"image_size", image_size}, {"mean", mean},
                 {"std", std}};
    r["model"] = {{"image_encoder", "vit_small_patch16_224"}};
    r.erase("retrieval");
  }
  if (precision != "fp32") r["train"]["precision"] = precision;  // absent at fp32: older fingerprints stay
  return r;
}

json PretrainProtocol::to_json() const {
  json j = recipe_json();
  if (!overrides.empty()) j["set"] = override_strings(overrides);
  j["fingerprint"] = fingerprint();
  j["seeds"] = seeds;
  j["inits"] = method == "clcp" ? json{{"image", image_init}, {"lidar", lidar_init}} : json{{"image", image_init}};
  j["decisions"] = decisions;
  j["file"] = file.filename().string();
  return j;
}

std::string PretrainProtocol::fingerprint() const {
  return sha256_hex(canonical_json(recipe_json())).substr(0, 16);
}

std::string PretrainProtocol::variant_name() const {
  return fmt::format("b{}-{}{}{}{}", batch_size, head == "mlp" ? "mlp" : "lin", lidar_mode == "frozen" ? "-fb" : "",
                     augment ? "-aug" : "", pairing == "shuffled" ? "-shuf" : "");
}

}  // namespace clcp
