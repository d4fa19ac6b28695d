#include "suite/pretrain/methods/registry.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "suite/core/error.hpp"

namespace clcp {

namespace {
// Function-local, so registrations from any static initialiser find it constructed.
std::map<std::string, MethodInfo>& table() {
  static std::map<std::string, MethodInfo> t;
  return t;
}
}  // namespace

MethodRegistration::MethodRegistration(MethodInfo info) {
  const std::string name = info.name;
  if (name.empty() || name.find('-') != std::string::npos || name.find('@') != std::string::npos)
    throw std::logic_error("pretraining method name '" + name + "': expected a non-empty word without '-' or '@'");
  if (!table().emplace(name, std::move(info)).second)
    throw std::logic_error("pretraining method '" + name + "' registered twice");
}

std::vector<const MethodInfo*> registered_methods() {
  std::vector<const MethodInfo*> out;
  for (const auto& [name, info] : table()) out.push_back(&info);
  return out;
}

const MethodInfo& find_method(const std::string& name) {
  const auto it = table().find(name);
  if (it != table().end()) return it->second;
  std::vector<std::string> known;
  for (const auto& [n, info] : table()) known.push_back(n);
  fail("unknown pretraining method '{}'; known methods: {} (clcp-bench methods lists them)", name,
       fmt::join(known, ", "));
}

const MethodInfo* method_of_init(const std::string& init) {
  const auto dash = init.find('-');
  if (dash == std::string::npos) return nullptr;
  const auto it = table().find(init.substr(0, dash));
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace clcp
