// Errors a user can act on. Every bad-input path throws clcp::UserError with ONE line that names the file or key,
// what was expected and what to do; the CLI prints it and exits non-zero. Library exceptions (c10::Error,
// cv::Exception, nlohmann::json::exception) are caught at the CLI boundary and never shown as raw stack traces.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace clcp {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& line) : std::runtime_error(line) {}
};

/// Throws UserError("<what>: <expected>; <fix>") formatted with fmt.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw UserError(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace clcp
