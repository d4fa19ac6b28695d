#include "suite/protocol/json_reader.hpp"

#include "suite/core/error.hpp"

namespace clcp {

StrictObject::StrictObject(const nlohmann::json& j, std::string where, std::string path)
    : j_(j), where_(std::move(where)), path_(std::move(path)) {
  if (!j_.is_object()) fail("{}: '{}' must be a JSON object; fix the file", where_, path_.empty() ? "<root>" : path_);
}

std::string StrictObject::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool StrictObject::has(const std::string& key) const { return j_.contains(key); }

const nlohmann::json& StrictObject::need(const std::string& key) {
  seen_.insert(key);
  if (!j_.contains(key)) fail("{}: missing key '{}'; add it (see docs/protocols.md)", where_, key_path(key));
  return j_.at(key);
}

const nlohmann::json& StrictObject::raw(const std::string& key) { return need(key); }
void StrictObject::allow(const std::string& key) { seen_.insert(key); }

double StrictObject::number(const std::string& key) {
  const auto& v = need(key);
  if (!v.is_number()) fail("{}: key '{}' must be a number, got {}", where_, key_path(key), v.dump());
  return v.get<double>();
}

int64_t StrictObject::integer(const std::string& key) {
  const auto& v = need(key);
  if (!v.is_number_integer()) fail("{}: key '{}' must be an integer, got {}", where_, key_path(key), v.dump());
  return v.get<int64_t>();
}

bool StrictObject::boolean(const std::string& key) {
  const auto& v = need(key);
  if (!v.is_boolean()) fail("{}: key '{}' must be true or false, got {}", where_, key_path(key), v.dump());
  return v.get<bool>();
}

std::string StrictObject::string(const std::string& key) {
  const auto& v = need(key);
  if (!v.is_string()) fail("{}: key '{}' must be a string, got {}", where_, key_path(key), v.dump());
  return v.get<std::string>();
}

std::vector<std::string> StrictObject::strings(const std::string& key) {
  const auto& v = need(key);
  std::vector<std::string> out;
  if (!v.is_array()) fail("{}: key '{}' must be a list of strings, got {}", where_, key_path(key), v.dump());
  for (const auto& e : v) {
    if (!e.is_string()) fail("{}: key '{}' must be a list of strings, got {}", where_, key_path(key), v.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> StrictObject::numbers(const std::string& key, size_t expected_size) {
  const auto& v = need(key);
  std::vector<double> out;
  if (v.is_array())
    for (const auto& e : v)
      if (e.is_number()) out.push_back(e.get<double>());
  if (!v.is_array() || out.size() != v.size() || (expected_size && out.size() != expected_size))
    fail("{}: key '{}' must be a list of {} numbers, got {}", where_, key_path(key),
         expected_size ? std::to_string(expected_size) : std::string("some"), v.dump());
  return out;
}

std::vector<int64_t> StrictObject::integers(const std::string& key, size_t expected_size) {
  const auto& v = need(key);
  std::vector<int64_t> out;
  if (v.is_array())
    for (const auto& e : v)
      if (e.is_number_integer()) out.push_back(e.get<int64_t>());
  if (!v.is_array() || out.size() != v.size() || (expected_size && out.size() != expected_size))
    fail("{}: key '{}' must be a list of {} integers, got {}", where_, key_path(key),
         expected_size ? std::to_string(expected_size) : std::string("some"), v.dump());
  return out;
}

StrictObject StrictObject::object(const std::string& key) { return StrictObject(need(key), where_, key_path(key)); }

void StrictObject::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it)
    if (!seen_.count(it.key()))
      fail("{}: unknown key '{}'; remove it or check its spelling (see docs/protocols.md)", where_, key_path(it.key()));
}

}  // namespace clcp
