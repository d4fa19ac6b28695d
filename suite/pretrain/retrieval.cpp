#include "suite/pretrain/retrieval.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "suite/core/error.hpp"

namespace clcp {
using nlohmann::json;

namespace {

RetrievalDirection direction(const torch::Tensor& sim, const std::vector<int64_t>& ks) {
  // rank_i = 1 + #{j : sim[i, j] > sim[i, i]}
  const auto positive = sim.diagonal().unsqueeze(1);
  const auto ranks = (sim > positive).sum(1).to(torch::kLong) + 1;
  RetrievalDirection d;
  const double n = static_cast<double>(ranks.size(0));
  for (const auto k : ks) d.recall.push_back(ranks.le(k).sum().item<double>() / n);
  d.mean_rank = ranks.to(torch::kDouble).mean().item<double>();
  auto sorted = std::get<0>(ranks.sort());
  d.median_rank = static_cast<double>(sorted[(ranks.size(0) - 1) / 2].item<int64_t>());
  return d;
}

json direction_json(const RetrievalDirection& d, const std::vector<int64_t>& ks) {
  json j;
  for (size_t i = 0; i < ks.size(); ++i) j[fmt::format("R@{}", ks[i])] = d.recall[i];
  j["mean_rank"] = d.mean_rank;
  j["median_rank"] = d.median_rank;
  return j;
}

}  // namespace

RetrievalMetrics retrieval_metrics(const torch::Tensor& image, const torch::Tensor& lidar,
                                   const std::vector<int64_t>& ks) {
  if (image.dim() != 2 || image.sizes() != lidar.sizes() || image.size(0) < 1)
    fail("retrieval: image and lidar embeddings must both be [N, D] with N >= 1");
  namespace F = torch::nn::functional;
  const auto a = F::normalize(image.to(torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const auto b = F::normalize(lidar.to(torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const auto sim = a.mm(b.t());  // [N images, N lidar]
  RetrievalMetrics m;
  m.gallery = image.size(0);
  m.ks = ks;
  m.image_to_lidar = direction(sim, ks);
  m.lidar_to_image = direction(sim.t(), ks);
  return m;
}

json RetrievalMetrics::to_json() const {
  json chance;
  for (const auto k : ks) chance[fmt::format("R@{}", k)] = std::min(1.0, static_cast<double>(k) / gallery);
  chance["mean_rank"] = (static_cast<double>(gallery) + 1) / 2;
  return {{"gallery", gallery},
          {"image_to_lidar", direction_json(image_to_lidar, ks)},
          {"lidar_to_image", direction_json(lidar_to_image, ks)},
          {"chance", chance}};
}

}  // namespace clcp
