#include "suite/data/image_folder.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}
}  // namespace

ImageFolder read_image_folder(const fs::path& root, double val_ratio) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    fail("{}: not a folder; point --data-root at a folder of images (or an A2D2 root for \"dataset\": \"a2d2\")",
         root.string());
  ImageFolder f;
  f.root = fs::absolute(root).lexically_normal();
  f.val_ratio = val_ratio;
  std::vector<std::pair<std::string, fs::path>> found;
  for (auto it = fs::recursive_directory_iterator(f.root, fs::directory_options::follow_directory_symlink, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) fail("{}: cannot list the folder ({}); check its permissions", f.root.string(), ec.message());
    if (it->is_regular_file(ec) && is_image(it->path()))
      found.emplace_back(fs::relative(it->path(), f.root).generic_string(), it->path());
  }
  if (found.empty())
    fail("{}: holds no *.png, *.jpg or *.jpeg image; point --data-root at a folder of images", f.root.string());
  std::sort(found.begin(), found.end());
  std::map<std::string, std::vector<size_t>> by_folder;  // keeps the folders in sorted order
  for (size_t i = 0; i < found.size(); ++i) {
    f.files.push_back(found[i].second);
    by_folder[fs::path(found[i].first).parent_path().generic_string()].push_back(i);
  }
  for (const auto& [folder, idx] : by_folder) {
    const auto n_val = static_cast<size_t>(std::floor(static_cast<double>(idx.size()) * val_ratio));
    for (size_t k = 0; k < idx.size(); ++k) (k + n_val >= idx.size() ? f.val : f.train).push_back(idx[k]);
  }
  if (f.train.empty() || f.val.empty())
    fail("{}: {} images give {} train and {} val at val_ratio {}; use a val_ratio that leaves both non-empty or more "
         "images", f.root.string(), f.files.size(), f.train.size(), f.val.size(), val_ratio);
  return f;
}

json ImageFolder::manifest() const {
  json files_j = json::array();
  std::vector<char> split_of(files.size(), 't');
  for (size_t i : val) split_of[i] = 'v';
  for (size_t i = 0; i < files.size(); ++i)
    files_j.push_back({{"file", fs::relative(files[i], root).generic_string()},
                       {"bytes", static_cast<int64_t>(fs::file_size(files[i]))},
                       {"split", split_of[i] == 'v' ? "val" : "train"}});
  json m{{"dataset", "images"},
         {"val_ratio", val_ratio},
         {"counts", {{"files", files.size()}, {"train", train.size()}, {"val", val.size()}}},
         {"files", files_j}};
  m["hash"] = sha256_hex(canonical_json(json{{"files", files_j}, {"val_ratio", val_ratio}}));
  return m;
}

std::vector<fs::path> ImageFolder::split(const std::string& name) const {
  if (name != "train" && name != "val") fail("image folder split '{}': expected train or val", name);
  std::vector<fs::path> out;
  for (size_t i : name == "train" ? train : val) out.push_back(files[i]);
  return out;
}

}  // namespace clcp
