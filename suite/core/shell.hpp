// Shell words for the commands clcp-bench records (provenance "rerun") and writes (Slurm batch scripts).
#pragma once
#include <string>
#include <vector>

namespace clcp {

/// `w` as one POSIX shell word: unchanged when it holds only characters the shell never interprets
/// (letters, digits, _-+=.,/:@%), otherwise in single quotes with each ' written as '\''. "" becomes ''.
std::string shell_word(const std::string& w);
/// The words joined by single spaces, each through shell_word.
std::string shell_join(const std::vector<std::string>& words);

}  // namespace clcp
