// Strict reading of JSON objects: every key a caller does not read is an error ("unknown key"), so a typo in a
// protocol file or config stops the run instead of being silently ignored. Errors name the file and the key path.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace clcp {

class StrictObject {
 public:
  /// `where` is the file name shown in errors; `path` the key path of this object ("" for the root).
  StrictObject(const nlohmann::json& j, std::string where, std::string path = "");

  bool has(const std::string& key) const;
  /// Required values. Throw UserError "<file>: key 'a.b' …" if missing or of the wrong type.
  double number(const std::string& key);
  int64_t integer(const std::string& key);
  bool boolean(const std::string& key);
  std::string string(const std::string& key);
  std::vector<std::string> strings(const std::string& key);
  std::vector<double> numbers(const std::string& key, size_t expected_size = 0);
  std::vector<int64_t> integers(const std::string& key, size_t expected_size = 0);
  StrictObject object(const std::string& key);
  /// Raw access that still marks the key as known.
  const nlohmann::json& raw(const std::string& key);
  /// Marks a key as known without reading it (documentation-only keys such as "why").
  void allow(const std::string& key);
  /// Throws UserError naming the first key that was never read.
  void finish() const;
  std::string key_path(const std::string& key) const;

 private:
  const nlohmann::json& need(const std::string& key);
  const nlohmann::json& j_;
  std::string where_, path_;
  std::set<std::string> seen_;
};

}  // namespace clcp
