#include "suite/train/checkpoint.hpp"

#include <cstring>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {
namespace fs = std::filesystem;

namespace {
// Minimal safetensors I/O (format: u64 little-endian header length, JSON header, raw little-endian data).
// TODO(train): switch to models/safetensors.hpp once it lands; kept private here so this stage builds on its own.
struct DtypeName { torch::ScalarType type; const char* name; };
constexpr DtypeName kDtypes[] = {
    {torch::kFloat32, "F32"}, {torch::kFloat64, "F64"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
    {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt16, "I16"},   {torch::kInt8, "I8"},
    {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"}};

const char* dtype_name(torch::ScalarType t, const std::string& key) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  fail("{}: dtype {} cannot be stored in a checkpoint; convert the tensor to float32", key, std::string(c10::toString(t)));
}

std::string encode_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {  // std::map: sorted by name, so the bytes are deterministic
    auto c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t n = static_cast<uint64_t>(c.nbytes());
    header[name] = {{"dtype", dtype_name(c.scalar_type(), name)},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + n}}};
    offset += n;
    cpu.push_back(std::move(c));
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t hlen = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((hlen >> (8 * i)) & 0xff);
  out.reserve(8 + h.size() + offset);
  out += h;
  for (const auto& c : cpu) out.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
  return out;
}

TensorMap read_safetensors(const fs::path& path, std::map<std::string, std::string>* metadata) {
  const std::string bytes = read_file(path);
  auto bad = [&](const std::string& why) -> void {
    fail("{}: not a valid safetensors file ({}); delete it and resume from an earlier checkpoint", path.string(), why);
  };
  if (bytes.size() < 8) bad("shorter than 8 bytes");
  uint64_t hlen = 0;
  for (int i = 0; i < 8; ++i) hlen |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (hlen > bytes.size() - 8) bad("header length beyond end of file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, hlen));
  } catch (const nlohmann::json::exception&) {
    bad("header is not JSON");
  }
  const size_t data0 = 8 + hlen;
  TensorMap out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (metadata)
        for (const auto& [k, v] : info.items()) (*metadata)[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    try {
      const auto dt = info.at("dtype").get<std::string>();
      const auto shape = info.at("shape").get<std::vector<int64_t>>();
      const auto offs = info.at("data_offsets").get<std::vector<uint64_t>>();
      std::optional<torch::ScalarType> type;
      for (const auto& d : kDtypes)
        if (dt == d.name) type = d.type;
      if (!type) bad(name + " has unsupported dtype " + dt);
      auto t = torch::empty(shape, torch::TensorOptions().dtype(*type));
      if (offs.size() != 2 || offs[1] < offs[0] || offs[1] - offs[0] != static_cast<uint64_t>(t.nbytes()) ||
          data0 + offs[1] > bytes.size())
        bad(name + " data_offsets do not match its shape or the file size");
      if (t.nbytes() > 0) std::memcpy(t.data_ptr(), bytes.data() + data0 + offs[0], t.nbytes());
      out.emplace(name, std::move(t));
    } catch (const nlohmann::json::exception&) {
      bad(name + " entry lacks dtype/shape/data_offsets");
    }
  }
  return out;
}

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
                                const TensorMap& momentum, const CheckpointRetention& retention) {
  ensure_writable_dir(dir);
  const std::map<std::string, std::string> meta{
      {"format", kCheckpointFormat}, {"iteration", std::to_string(iteration)}, {"seed", std::to_string(seed)}};
  auto state_meta = meta;
  state_meta["kind"] = "sgd_momentum";
  CheckpointFiles f{iteration, dir / weights_name(iteration), dir / state_name(iteration)};
  write_atomic(f.weights, encode_safetensors(model_state, meta));
  write_atomic(f.state, encode_safetensors(momentum, state_meta));
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
  std::map<std::string, std::string> meta, state_meta;
  out.model_state = read_safetensors(files.weights, &meta);
  out.momentum = read_safetensors(files.state, &state_meta);
  for (const auto& [path, m] : {std::pair{files.weights, meta}, std::pair{files.state, state_meta}}) {
    if (m.count("format") == 0 || m.at("format") != kCheckpointFormat)
      fail("{}: expected metadata format \"{}\"; this is not a clcp-bench finetuning checkpoint", path.string(),
           kCheckpointFormat);
    if (m.count("iteration") == 0 || m.at("iteration") != std::to_string(files.iteration))
      fail("{}: metadata iteration differs from latest.json ({}); delete latest.json to restart the cell",
           path.string(), files.iteration);
  }
  try {
    out.seed = std::stoull(meta.at("seed"));
  } catch (const std::exception&) {
    fail("{}: metadata \"seed\" missing or not a number; this checkpoint cannot be resumed", files.weights.string());
  }
  return out;
}

}  // namespace clcp
