#include "suite/data/acdc.hpp"

#include <algorithm>

#include "suite/core/error.hpp"
#include "suite/data/split_scan.hpp"

namespace fs = std::filesystem;

namespace clcp {

Split read_acdc(const fs::path& root_in, const std::string& split, const std::vector<std::string>& conditions) {
  const fs::path root = detail::normal_root(root_in);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    fail("{}: ACDC root not found; pass --data-root DIR whose acdc/ holds rgb_anon/ and gt/", root.string());
  Split s;
  s.dataset = "acdc";
  s.name = split;
  s.root = root;
  for (const auto& cond : conditions) {
    detail::SuffixLayout l;
    l.image_dir = root / "rgb_anon" / cond / split;
    l.label_dir = root / "gt" / cond / split;
    l.image_suffix = "_rgb_anon.png";
    l.train_ids_suffix = "_gt_labelTrainIds.png";
    l.label_ids_suffix = "_gt_labelIds.png";
    l.condition = cond;
    const std::string fix = fmt::format(
        "expected ACDC condition '{}' split '{}' with rgb_anon/{}/{}/<sequence>/ and gt/{}/{}/<sequence>/; check "
        "--data-root, the split name and that rgb_anon_trainvaltest.zip and gt_trainval.zip are unpacked",
        cond, split, cond, split, cond, split);
    detail::require_dir(l.image_dir, "image split folder", fix);
    detail::require_dir(l.label_dir, "label split folder", fix);
    auto recs = detail::scan_pairs(l, root);
    s.records.insert(s.records.end(), std::make_move_iterator(recs.begin()), std::make_move_iterator(recs.end()));
  }
  std::sort(s.records.begin(), s.records.end(), [](const ImageRecord& a, const ImageRecord& b) {
    return a.image.generic_string() < b.image.generic_string();
  });
  if (s.records.empty())
    fail("{}: ACDC split '{}' holds no *_rgb_anon.png images; unpack rgb_anon_trainvaltest.zip into {}",
         (root / "rgb_anon").string(), split, root.string());
  return s;
}

}  // namespace clcp
