#include "suite/pretrain/knn_probe.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <map>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "suite/data/image_folder.hpp"
#include "suite/data/view_loader.hpp"

namespace clcp {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

torch::Tensor knn_predict(const torch::Tensor& queries, const torch::Tensor& bank, const torch::Tensor& bank_labels,
                          int64_t classes, int64_t k, double tau) {
  if (queries.dim() != 2 || bank.dim() != 2 || queries.size(1) != bank.size(1) || bank_labels.dim() != 1 ||
      bank_labels.size(0) != bank.size(0) || bank.size(0) < 1 || classes < 1)
    fail("knn_predict: queries {}, bank {}, labels {}: expected [Q, D], [N, D], [N] with N >= 1", shape_str(queries),
         shape_str(bank), shape_str(bank_labels));
  if (k < 1 || !(tau > 0)) fail("knn_predict: k {} must be >= 1 and tau {} > 0", k, tau);
  const auto norm = F::NormalizeFuncOptions().dim(1);
  const auto sim = F::normalize(queries.to(torch::kDouble), norm).mm(F::normalize(bank.to(torch::kDouble), norm).t());
  const auto top = sim.topk(std::min(k, bank.size(0)), 1);
  const auto weights = (std::get<0>(top) / tau).exp();                       // [Q, k]
  const auto labels = bank_labels.index_select(0, std::get<1>(top).reshape(-1)).reshape(std::get<1>(top).sizes());
  auto votes = torch::zeros({queries.size(0), classes}, torch::kDouble).scatter_add_(1, labels, weights);
  return votes.argmax(1);  // first maximum: the lower class index on a tie
}

KnnProbe::KnnProbe(KnnProbeOptions o) : o_(std::move(o)) {
  const ImageFolder folder = read_image_folder(o_.root, o_.val_ratio);
  std::map<std::string, int64_t> index;
  for (const auto& f : folder.files) {
    const auto rel = fs::relative(f, folder.root);
    if (std::distance(rel.begin(), rel.end()) < 2)
      fail("{}: the k-NN probe expects ROOT/<class>/<image>; {} is not in a class folder", o_.root.string(),
           rel.string());
    index.emplace(rel.begin()->string(), 0);
  }
  if (index.size() < 2) fail("{}: the k-NN probe needs at least two class folders, found {}", o_.root.string(),
                             index.size());
  for (auto& [name, i] : index) {
    i = static_cast<int64_t>(classes_.size());
    classes_.push_back(name);
  }
  auto load = [&](const std::vector<size_t>& ids, torch::Tensor& images, torch::Tensor& labels) {
    std::vector<torch::Tensor> xs;
    std::vector<int64_t> ys;
    for (const size_t i : ids) {
      cv::Mat rgb = read_rgb_image(folder.files[i]), resized;
      cv::resize(rgb, resized, cv::Size(o_.image_size, o_.image_size), 0, 0, cv::INTER_LINEAR);
      xs.push_back(normalise_rgb(resized, o_.mean_rgb, o_.std_rgb));
      ys.push_back(index.at(fs::relative(folder.files[i], folder.root).begin()->string()));
    }
    images = torch::stack(xs);
    labels = torch::tensor(ys, torch::kInt64);
  };
  load(folder.train, bank_, bank_labels_);
  load(folder.val, queries_, query_labels_);
  for (int64_t c = 0; c < static_cast<int64_t>(classes_.size()); ++c)
    if (!bank_labels_.eq(c).any().item<bool>() || !query_labels_.eq(c).any().item<bool>())
      fail("{}: class folder '{}' needs at least one bank and one query image (the last floor(n x {}) of its images "
           "are queries); add images", o_.root.string(), classes_[static_cast<size_t>(c)], o_.val_ratio);
}

double KnnProbe::accuracy(const std::function<torch::Tensor(const torch::Tensor&)>& embed) const {
  auto run = [&](const torch::Tensor& images) {
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < images.size(0); i += 16) out.push_back(embed(images.narrow(0, i, std::min<int64_t>(16, images.size(0) - i))).cpu());
    return torch::cat(out);
  };
  const auto pred = knn_predict(run(queries_), run(bank_), bank_labels_, static_cast<int64_t>(classes_.size()), o_.k,
                                o_.temperature);
  return pred.eq(query_labels_).to(torch::kDouble).mean().item<double>();
}

}  // namespace clcp
