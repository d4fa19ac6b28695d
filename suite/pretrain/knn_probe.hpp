// The k-NN probe of the image-only methods (methods_reference.md §3.2: the thesis's evaluation, k 200, τ 0.1): a
// small labelled image folder, ROOT/<class>/<image>, split per class folder as image_folder.hpp splits (the last
// floor(n·val_ratio) images of each class are the queries, the rest the memory bank). Each epoch the encoder embeds
// both (resized to S×S, normalised; the embedding's L2 norm), and each query is classified by the weighted vote of its
// k most similar bank images, weight exp(cos/τ) (Wu et al. 2018's weighted k-NN, as the thesis's lightly/solo-learn
// code). The accuracy's chance level is 1 / the number of classes.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace clcp {

/// queries [Q, D], bank [N, D] (any float dtype; L2-normalised inside), bank_labels [N] int64 in [0, classes):
/// the predicted class of each query [Q] int64. Ties go to the lower class index. k is capped at N.
/// UserError for mismatched shapes, k < 1 or tau <= 0.
torch::Tensor knn_predict(const torch::Tensor& queries, const torch::Tensor& bank, const torch::Tensor& bank_labels,
                          int64_t classes, int64_t k, double tau);

struct KnnProbeOptions {
  std::filesystem::path root;
  int64_t k = 200;
  double temperature = 0.1, val_ratio = 0.25;
  int image_size = 224;
  std::array<float, 3> mean_rgb{123.675f, 116.28f, 103.53f}, std_rgb{58.395f, 57.12f, 57.375f};
};

class KnnProbe {
 public:
  /// Reads ROOT/<class>/* once (decoded and resized here). UserError naming ROOT when it has fewer than two class
  /// folders, or a class with no bank or no query image.
  explicit KnnProbe(KnnProbeOptions options);
  /// embed: images [n, 3, S, S] float32 normalised → embeddings [n, D]. The top-1 accuracy over the queries.
  double accuracy(const std::function<torch::Tensor(const torch::Tensor&)>& embed) const;
  double chance() const { return 1.0 / static_cast<double>(classes_.size()); }
  const std::vector<std::string>& classes() const { return classes_; }
  int64_t bank_size() const { return bank_.size(0); }
  int64_t query_size() const { return queries_.size(0); }

 private:
  KnnProbeOptions o_;
  std::vector<std::string> classes_;
  torch::Tensor bank_, queries_, bank_labels_, query_labels_;
};

}  // namespace clcp
