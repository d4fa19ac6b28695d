#include "suite/train/checkpoint.hpp"

#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "models/safetensors.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {
std::string weights_name(int64_t it) { return "iter_" + std::to_string(it) + ".safetensors"; }
std::string state_name(int64_t it) { return "iter_" + std::to_string(it) + ".state.safetensors"; }

void prune(const fs::path& dir, int64_t newest, const CheckpointRetention& r) {
  if (r.keep_last <= 0) return;
  static const std::regex re(R"(iter_(\d+)\.safetensors)");
  std::set<int64_t, std::greater<>> iters;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, re)) iters.insert(std::stoll(m[1].str()));
  }
  int64_t rank = 0;  // 0 for the checkpoint just written, 1 for the one before, …
  for (int64_t it : iters) {
    if (it > newest) continue;  // never touch checkpoints newer than the one just written
    const bool keep = rank++ < r.keep_last || it == r.final_iteration;
    if (keep) continue;
    std::error_code ec;
    fs::remove(dir / weights_name(it), ec);
    fs::remove(dir / state_name(it), ec);
  }
}
}  // namespace

CheckpointFiles save_checkpoint(const fs::path& dir, int64_t iteration, uint64_t seed, const TensorMap& model_state,
                                const TensorMap& momentum, const CheckpointRetention& retention, int threads) {
  ensure_writable_dir(dir);
  std::map<std::string, std::string> meta{
      {"format", kCheckpointFormat}, {"iteration", std::to_string(iteration)}, {"seed", std::to_string(seed)}};
  if (threads > 0) meta["threads"] = std::to_string(threads);
  auto state_meta = meta;
  state_meta["kind"] = "sgd_momentum";
  CheckpointFiles f{iteration, dir / weights_name(iteration), dir / state_name(iteration)};
  // save_safetensors writes atomically and copies to contiguous CPU; std::map gives sorted, reproducible bytes.
  save_safetensors(f.weights, model_state, meta);
  save_safetensors(f.state, momentum, state_meta);
  write_json_atomic(dir / "latest.json", {{"format", kCheckpointFormat},
                                          {"iteration", iteration},
                                          {"weights", f.weights.filename().string()},
                                          {"state", f.state.filename().string()}});
  prune(dir, iteration, retention);
  return f;
}

std::optional<CheckpointFiles> find_latest_checkpoint(const fs::path& dir) {
  const fs::path latest = dir / "latest.json";
  if (!fs::exists(latest)) return std::nullopt;
  const auto j = read_json(latest);
  CheckpointFiles f;
  try {
    if (j.at("format").get<std::string>() != kCheckpointFormat) throw std::runtime_error("format");
    f.iteration = j.at("iteration").get<int64_t>();
    f.weights = dir / j.at("weights").get<std::string>();
    f.state = dir / j.at("state").get<std::string>();
  } catch (const std::exception&) {
    fail("{}: expected {{\"format\":\"{}\",\"iteration\",\"weights\",\"state\"}}; delete it to restart the cell",
         latest.string(), kCheckpointFormat);
  }
  for (const auto& p : {f.weights, f.state})
    if (!fs::exists(p))
      fail("{}: names {} which does not exist; restore the file or delete latest.json to restart the cell",
           latest.string(), p.string());
  return f;
}

LoadedCheckpoint load_checkpoint(const CheckpointFiles& files) {
  LoadedCheckpoint out;
  out.files = files;
  auto weights = read_safetensors(files.weights);
  auto state = read_safetensors(files.state);
  out.model_state = std::move(weights.tensors);
  out.momentum = std::move(state.tensors);
  const auto& meta = weights.metadata;
  const auto& state_meta = state.metadata;
  for (const auto& [path, m] : {std::pair{files.weights, meta}, std::pair{files.state, state_meta}}) {
    if (m.count("format") == 0 || m.at("format") != kCheckpointFormat)
      fail("{}: expected metadata format \"{}\"; this is not a clcp-bench finetuning checkpoint", path.string(),
           kCheckpointFormat);
    if (m.count("iteration") == 0 || m.at("iteration") != std::to_string(files.iteration))
      fail("{}: metadata iteration differs from latest.json ({}); delete latest.json to restart the cell",
           path.string(), files.iteration);
  }
  if (const auto it = meta.find("threads"); it != meta.end()) {
    try {
      out.threads = std::stoi(it->second);
    } catch (const std::exception&) {
      fail("{}: metadata \"threads\" is not a number; this checkpoint cannot be resumed", files.weights.string());
    }
  }
  try {
    out.seed = std::stoull(meta.at("seed"));
  } catch (const std::exception&) {
    fail("{}: metadata \"seed\" missing or not a number; this checkpoint cannot be resumed", files.weights.string());
  }
  return out;
}

}  // namespace clcp
