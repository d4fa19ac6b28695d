#include "models/clcp/import_clcp.hpp"

#include <fmt/format.h>

#include "models/import/checkpoint_reader.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp {

ClcpImport load_clcp_checkpoint(ClcpModelImpl& model, const std::filesystem::path& path) {
  const auto file = read_checkpoint(path).tensors;
  ClcpImport out;
  out.layout = "clcp-lightning";
  std::map<std::string, torch::Tensor> mapped;
  for (const auto& [k, v] : file) {
    std::string name = k;
    if (name.rfind("lidar_encoder.", 0) == 0) {
      name = "point_cloud_encoder." + name.substr(14);
      out.layout = "clcp-lightning (lidar_encoder.)";
    }
    if (name.rfind("point_cloud_encoder.model.decode_head.", 0) == 0) {
      out.dropped.push_back(k);
      continue;
    }
    mapped[name] = v;
  }
  const auto sd = state_dict(model);
  LoadReport r;
  for (const auto& [k, v] : sd)
    if (!mapped.count(k)) r.missing.push_back(k);
  for (const auto& [k, v] : mapped) {
    const auto it = sd.find(k);
    if (it == sd.end()) r.unexpected.push_back(k);
    else if (v.sizes() != it->second.sizes())
      r.shape_mismatch.push_back(fmt::format("{}: file {} vs model {}", k, shape_str(v), shape_str(it->second)));
    else if (v.is_floating_point() && !torch::isfinite(v).all().item<bool>()) r.non_finite.push_back(k);
  }
  if (!r.ok())
    fail("{}: not a CLCP checkpoint for this model ({} head, {} temperature): {}; check the --head and temperature "
         "settings against the file (clcp-bench weights inspect {})", path.string(), model.options().head,
         model.options().temperature, r.summary(), path.string());
  load_state_dict(model, mapped, /*strict=*/true);
  out.tensors = mapped.size();
  return out;
}

}  // namespace clcp
