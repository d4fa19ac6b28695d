// Cross-modal retrieval diagnostic of a pretraining epoch (pretraining_anchors.md §3, OpenCLIP get_clip_metrics):
// every val image queries the gallery of all val lidar embeddings (and the reverse); the only positive is the exact
// pair index. Rank of the positive = 1 + the number of gallery items scored strictly higher (ties count in the
// query's favour, which makes the metric independent of sort stability). Reported: Recall@K (fraction with rank ≤ K),
// mean and median rank (median of an even count = the lower middle, as floor(torch.median)), the gallery size N and
// the chance levels K / N and (N + 1) / 2.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace clcp {

struct RetrievalDirection {
  std::vector<double> recall;  ///< per K, in [0, 1]
  double mean_rank = 0, median_rank = 0;
};

struct RetrievalMetrics {
  int64_t gallery = 0;          ///< N pairs
  std::vector<int64_t> ks;
  RetrievalDirection image_to_lidar, lidar_to_image;
  /// {"gallery", "image_to_lidar": {"R@1", …, "mean_rank", "median_rank"}, "lidar_to_image": …,
  ///  "chance": {"R@1": K/N, …, "mean_rank": (N+1)/2}}
  nlohmann::json to_json() const;
};

/// image, lidar: [N, D] embeddings of the N val pairs (row i of each is pair i); normalised inside. Throws UserError
/// for mismatched shapes or N < 1.
RetrievalMetrics retrieval_metrics(const torch::Tensor& image, const torch::Tensor& lidar, const std::vector<int64_t>& ks);

}  // namespace clcp
