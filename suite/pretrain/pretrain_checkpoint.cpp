#include "suite/pretrain/pretrain_checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {

std::string two(int64_t e) { return fmt::format("{:02d}", e); }

bool kept(int64_t e, int64_t newest, const std::vector<int64_t>& keep) {
  return e >= newest || std::find(keep.begin(), keep.end(), e) != keep.end();
}

// Removes files of older epochs matching `re` (group 1 = epoch) that are not kept.
void prune(const fs::path& dir, const std::regex& re, int64_t newest, const std::vector<int64_t>& keep) {
  std::error_code ec;
  if (!fs::is_directory(dir)) return;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, re) && !kept(std::stoll(m[1].str()), newest, keep)) fs::remove(e.path(), ec);
  }
}

}  // namespace

PretrainCheckpoint save_pretrain_checkpoint(const fs::path& dir, int64_t epoch, uint64_t seed, int64_t step,
                                            const std::string& fingerprint, const TensorDict& model,
                                            const TensorDict& optimizer, const std::vector<int64_t>& keep_epochs,
                                            int threads) {
  ensure_writable_dir(dir);
  std::map<std::string, std::string> meta{{"format", kPretrainCheckpointFormat},
                                          {"epoch", std::to_string(epoch)},
                                          {"seed", std::to_string(seed)},
                                          {"fingerprint", fingerprint}};
  if (threads > 0) meta["threads"] = std::to_string(threads);
  PretrainCheckpoint f{epoch, dir / ("epoch_" + two(epoch) + ".safetensors"),
                       dir / ("epoch_" + two(epoch) + ".state.safetensors")};
  save_safetensors(f.weights, model, meta);
  meta["step"] = std::to_string(step);
  meta["kind"] = "adamw";
  save_safetensors(f.state, optimizer, meta);
  write_json_atomic(dir / "latest.json", {{"format", kPretrainCheckpointFormat},
                                          {"epoch", epoch},
                                          {"weights", f.weights.filename().string()},
                                          {"state", f.state.filename().string()}});
  // A kept epoch keeps its weights; its AdamW state (twice the weights) only ever serves a resume, which starts from
  // the newest epoch, so older states go.
  static const std::regex weights_re(R"(epoch_(\d+)\.safetensors)");
  static const std::regex state_re(R"(epoch_(\d+)\.state\.safetensors)");
  prune(dir, weights_re, epoch, keep_epochs);
  prune(dir, state_re, epoch, {});
  return f;
}

std::optional<PretrainCheckpoint> find_latest_pretrain_checkpoint(const fs::path& dir) {
  const fs::path latest = dir / "latest.json";
  if (!fs::exists(latest)) return std::nullopt;
  const auto j = read_json(latest);
  PretrainCheckpoint f;
  try {
    if (j.at("format").get<std::string>() != kPretrainCheckpointFormat) throw std::runtime_error("format");
    f.epoch = j.at("epoch").get<int64_t>();
    f.weights = dir / j.at("weights").get<std::string>();
    f.state = dir / j.at("state").get<std::string>();
  } catch (const std::exception&) {
    fail("{}: expected {{\"format\":\"{}\",\"epoch\",\"weights\",\"state\"}}; delete it to restart the pretraining",
         latest.string(), kPretrainCheckpointFormat);
  }
  for (const auto& p : {f.weights, f.state})
    if (!fs::exists(p))
      fail("{}: names {} which does not exist; restore it or delete latest.json to restart the pretraining",
           latest.string(), p.string());
  return f;
}

LoadedPretrainCheckpoint load_pretrain_checkpoint(const PretrainCheckpoint& files) {
  auto w = read_safetensors(files.weights);
  auto s = read_safetensors(files.state);
  for (const auto& [path, m] : {std::pair{files.weights, w.metadata}, std::pair{files.state, s.metadata}}) {
    if (!m.count("format") || m.at("format") != kPretrainCheckpointFormat)
      fail("{}: expected metadata format \"{}\"; not a clcp-bench pretraining checkpoint", path.string(),
           kPretrainCheckpointFormat);
    if (!m.count("epoch") || m.at("epoch") != std::to_string(files.epoch))
      fail("{}: metadata epoch differs from latest.json ({}); delete latest.json to restart", path.string(),
           files.epoch);
  }
  LoadedPretrainCheckpoint out;
  out.files = files;
  try {
    out.seed = std::stoull(w.metadata.at("seed"));
    out.step = std::stoll(s.metadata.at("step"));
    out.fingerprint = w.metadata.at("fingerprint");
    if (w.metadata.count("threads")) out.threads = std::stoi(w.metadata.at("threads"));
  } catch (const std::exception&) {
    fail("{}: metadata seed/step/fingerprint missing; this checkpoint cannot be resumed", files.weights.string());
  }
  out.model = std::move(w.tensors);
  out.optimizer = std::move(s.tensors);
  return out;
}

fs::path encoder_export_path(const fs::path& bundle_dir, int64_t epoch) {
  return bundle_dir / "export" / ("image_encoder_epoch" + two(epoch) + ".safetensors");
}

fs::path export_image_encoder(const fs::path& bundle_dir, int64_t epoch, const TensorDict& model,
                              const std::string& prefix, const std::string& pretrain_cell,
                              const std::string& fingerprint, const std::vector<int64_t>& keep_epochs) {
  TensorDict vit;
  for (const auto& [k, v] : model)
    if (k.rfind(prefix, 0) == 0) vit[k.substr(prefix.size())] = v;
  if (vit.empty()) fail("export: the model has no {}* parameters (the method's image_encoder_prefix())", prefix);
  const fs::path out = encoder_export_path(bundle_dir, epoch);
  save_safetensors(out, vit, {{"format", kEncoderExportFormat},
                              {"epoch", std::to_string(epoch)},
                              {"pretrain_cell", pretrain_cell},
                              {"fingerprint", fingerprint}});
  static const std::regex re(R"(image_encoder_epoch(\d+)\.safetensors)");
  prune(out.parent_path(), re, epoch, keep_epochs);
  return out;
}

}  // namespace clcp
