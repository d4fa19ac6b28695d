#include "suite/results/kernel_path.hpp"

#include <ATen/Version.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace clcp {
using nlohmann::json;

namespace {

// Flags LibTorch's dispatch (DEFAULT/AVX2/AVX512), oneDNN's and MKL's ISA choices depend on.
bool dispatch_relevant(const std::string& flag) {
  static const std::set<std::string> exact{"fma", "f16c", "avx", "avx2", "avx_vnni", "avx_vnni_int8", "avx_ne_convert"};
  return exact.count(flag) || flag.rfind("avx512", 0) == 0 || flag.rfind("amx", 0) == 0;
}

std::pair<std::string, std::vector<std::string>> cpuinfo() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor = "unknown";
  std::vector<std::string> isa;
  bool have_flags = false;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "vendor_id" && vendor == "unknown") vendor = value;
    if (key == "flags" && !have_flags) {
      have_flags = true;
      std::istringstream ss(value);
      for (std::string f; ss >> f;)
        if (dispatch_relevant(f)) isa.push_back(f);
    }
  }
  std::sort(isa.begin(), isa.end());
  return {vendor, isa};
}

}  // namespace

json kernel_path(int threads) {
  const auto [vendor, isa] = cpuinfo();
  return {{"threads", threads},
          {"libtorch", TORCH_VERSION},
          {"cpu_capability", at::get_cpu_capability()},
          {"cpu_vendor", vendor},
          {"isa", isa},
          {"mkl", at::get_mkl_version()},
          {"mkldnn", at::get_mkldnn_version()}};
}

std::string kernel_path_difference(const json& a, const json& b) {
  std::string out;
  for (const char* k : {"threads", "libtorch", "cpu_capability", "cpu_vendor", "isa", "mkl", "mkldnn"}) {
    const json va = a.is_object() && a.contains(k) ? a[k] : json(nullptr);
    const json vb = b.is_object() && b.contains(k) ? b[k] : json(nullptr);
    if (va == vb) continue;
    auto show = [](const json& v) {
      if (v.is_null()) return std::string("(not recorded)");
      if (v.is_string()) return v.get<std::string>();
      if (v.is_array()) {
        std::string s;
        for (const auto& e : v) s += (s.empty() ? "" : " ") + (e.is_string() ? e.get<std::string>() : e.dump());
        return "[" + s + "]";
      }
      return v.dump();
    };
    std::string detail;
    if (va.is_array() && vb.is_array()) {  // ISA lists: name only what one side lacks
      std::set<std::string> sa, sb;
      for (const auto& e : va) sa.insert(e.dump());
      for (const auto& e : vb) sb.insert(e.dump());
      std::vector<std::string> only_a, only_b;
      for (const auto& e : va) if (!sb.count(e.dump())) only_a.push_back(e.get<std::string>());
      for (const auto& e : vb) if (!sa.count(e.dump())) only_b.push_back(e.get<std::string>());
      detail = fmt::format("{}: baseline only [{}], this run only [{}]", k, fmt::join(only_a, " "), fmt::join(only_b, " "));
    } else {
      detail = fmt::format("{} {} → {}", k, show(va), show(vb));
    }
    out += (out.empty() ? "" : ", ") + detail;
  }
  return out;
}

}  // namespace clcp
