#include "suite/report/clcp_init.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

namespace clcp {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "ep19" with prefix "ep" → 19.
std::optional<int64_t> number_after(const std::string& tok, const std::string& prefix) {
  if (tok.rfind(prefix, 0) != 0 || !all_digits(tok.substr(prefix.size()))) return std::nullopt;
  return std::stoll(tok.substr(prefix.size()));
}

}  // namespace

std::string init_display_name(const std::string& init) {
  std::string s = init.rfind("file:", 0) == 0 ? init.substr(5) : init;
  s = std::filesystem::path(s).filename().string();
  for (const char* ext : {".safetensors", ".pth", ".pt"}) {
    const std::string e = ext;
    if (s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0) return s.substr(0, s.size() - e.size());
  }
  return s;
}

std::optional<ClcpInit> parse_clcp_init(const std::string& init, const nlohmann::json& metadata) {
  const std::string name = lower(init_display_name(init));
  const bool has_meta = metadata.is_object() && metadata.contains("clcp_epoch");
  if (name.rfind("clcp", 0) != 0 && !has_meta) return std::nullopt;
  ClcpInit c;
  std::vector<std::string> tokens;
  std::string cur;
  for (char ch : name.substr(name.rfind("clcp", 0) == 0 ? 4 : 0)) {
    if (ch == '-' || ch == '_' || ch == '.' || ch == '+' || ch == '@') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  for (const auto& t : tokens) {
    if (auto e = number_after(t, "epoch")) c.epoch = e;
    else if (auto e2 = number_after(t, "ep")) c.epoch = e2;
    else if (auto b = number_after(t, "b")) c.batch = b;
    else if (t == "lin" || t == "linear") c.head = "lin";
    else if (t == "mlp") c.head = "mlp";
    else if (t == "fb" || t == "lidarfrozen") c.lidar_frozen = true;
    else if (t == "unfrozen") c.lidar_frozen = false;
    else if (t == "aug") c.augment = true;
    else if (t == "noaug") c.augment = false;
    else if (t == "shuf") return std::nullopt;  // the shuffled-pairs control is not a checkpoint of the thesis's table
  }
  if (metadata.is_object()) {
    if (metadata.contains("clcp_epoch") && metadata["clcp_epoch"].is_number_integer()) c.epoch = metadata["clcp_epoch"];
    if (metadata.contains("batch") && metadata["batch"].is_number_integer()) c.batch = metadata["batch"];
    if (metadata.contains("head") && metadata["head"].is_string()) c.head = lower(metadata["head"]);
    if (metadata.contains("lidar_frozen") && metadata["lidar_frozen"].is_boolean()) c.lidar_frozen = metadata["lidar_frozen"];
    if (metadata.contains("augment") && metadata["augment"].is_boolean()) c.augment = metadata["augment"];
  }
  return c;
}

std::string ClcpInit::label() const {
  std::vector<std::string> parts;
  if (head == "lin") parts.push_back("Lin");
  else if (head == "mlp") parts.push_back("MLP");
  if (lidar_frozen) parts.push_back("fb");
  if (augment) parts.push_back("aug");
  std::string s = epoch ? fmt::format("Ep{}", *epoch) : "clcp";
  if (!parts.empty()) s += fmt::format(" ({})", fmt::join(parts, ", "));
  return s;
}

}  // namespace clcp
