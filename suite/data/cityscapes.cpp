#include "suite/data/cityscapes.hpp"

#include "suite/core/error.hpp"
#include "suite/data/split_scan.hpp"

namespace fs = std::filesystem;

namespace clcp {

Split read_cityscapes(const fs::path& root_in, const std::string& split) {
  const fs::path root = detail::normal_root(root_in);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    fail("{}: Cityscapes root not found; pass --data-root DIR whose cityscapes/ holds leftImg8bit/ and gtFine/",
         root.string());
  detail::SuffixLayout l;
  l.image_dir = root / "leftImg8bit" / split;
  l.label_dir = root / "gtFine" / split;
  l.image_suffix = "_leftImg8bit.png";
  l.train_ids_suffix = "_gtFine_labelTrainIds.png";
  l.label_ids_suffix = "_gtFine_labelIds.png";
  const std::string fix = fmt::format("expected Cityscapes split '{}' with leftImg8bit/{}/<city>/ and gtFine/{}/<city>/; "
                                      "check --data-root and the split name", split, split, split);
  detail::require_dir(l.image_dir, "image split folder", fix);
  detail::require_dir(l.label_dir, "label split folder", fix);
  Split s;
  s.dataset = "cityscapes";
  s.name = split;
  s.root = root;
  s.records = detail::scan_pairs(l, root);
  if (s.records.empty())
    fail("{}: split '{}' holds no *_leftImg8bit.png images; download leftImg8bit_trainvaltest.zip into {}",
         l.image_dir.string(), split, root.string());
  return s;
}

}  // namespace clcp
