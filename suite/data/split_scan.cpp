#include "suite/data/split_scan.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "suite/core/error.hpp"

namespace fs = std::filesystem;

namespace clcp::detail {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Regular files under `dir` (recursively, following no symlinked folders) whose name ends with one of `suffixes`.
std::vector<fs::path> list_recursive(const fs::path& dir, const std::vector<std::string>& suffixes) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) fail("{}: cannot list folder ({}); check its permissions", dir.string(), ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail("{}: cannot list folder ({}); check its permissions", dir.string(), ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    for (const auto& s : suffixes) {
      if (ends_with(name, s)) { out.push_back(it->path()); break; }
    }
  }
  return out;
}

// "<rel>/<stem><from>" → "<rel>/<stem><to>" (rel relative to from_dir, re-rooted at to_dir).
fs::path swap_suffix(const fs::path& file, const fs::path& from_dir, const std::string& from,
                     const fs::path& to_dir, const std::string& to) {
  const fs::path rel = file.lexically_relative(from_dir);
  std::string name = rel.filename().string();
  name = name.substr(0, name.size() - from.size()) + to;
  return to_dir / rel.parent_path() / name;
}

}  // namespace

fs::path normal_root(const fs::path& root) {
  fs::path r = fs::absolute(root).lexically_normal();
  if (r.has_relative_path() && r.filename().empty()) r = r.parent_path();
  return r;
}

void require_dir(const fs::path& dir, const std::string& what, const std::string& fix) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: {} not found; {}", dir.string(), what, fix);
}

std::vector<ImageRecord> scan_pairs(const SuffixLayout& l, const fs::path& root) {
  std::vector<fs::path> images = list_recursive(l.image_dir, {l.image_suffix});
  // By path string, byte-wise, as Python's sorted() in mmseg (fs::path's element-wise order differs for '-' vs '/').
  std::sort(images.begin(), images.end(),
            [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  std::vector<ImageRecord> records;
  records.reserve(images.size());
  std::error_code ec;
  for (const auto& img : images) {
    ImageRecord r;
    r.image = img;
    r.condition = l.condition;
    r.id = img.lexically_relative(root).generic_string();
    const fs::path train = swap_suffix(img, l.image_dir, l.image_suffix, l.label_dir, l.train_ids_suffix);
    const fs::path ids = swap_suffix(img, l.image_dir, l.image_suffix, l.label_dir, l.label_ids_suffix);
    if (fs::is_regular_file(train, ec)) {
      r.label = train;
      r.encoding = LabelEncoding::kTrainIds;
    } else if (fs::is_regular_file(ids, ec)) {
      r.label = ids;
      r.encoding = LabelEncoding::kLabelIds;
    } else {
      fail("{}: image has no label, expected {} (or {}); restore the label folder or remove the image",
           img.string(), train.string(), ids.filename().string());
    }
    records.push_back(std::move(r));
  }
  // A label whose image is missing means a partial download or a wrong split; silently dropping it would change the
  // evaluated set.
  const std::set<fs::path> image_set(images.begin(), images.end());
  for (const auto& lbl : list_recursive(l.label_dir, {l.train_ids_suffix, l.label_ids_suffix})) {
    const std::string& suffix =
        ends_with(lbl.filename().string(), l.train_ids_suffix) ? l.train_ids_suffix : l.label_ids_suffix;
    const fs::path expected = swap_suffix(lbl, l.label_dir, suffix, l.image_dir, l.image_suffix);
    if (!image_set.count(expected))
      fail("{}: label has no image, expected {}; restore the image folder or remove the stray label", lbl.string(),
           expected.string());
  }
  return records;
}

}  // namespace clcp::detail
