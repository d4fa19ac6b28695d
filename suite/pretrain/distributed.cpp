#include "suite/pretrain/distributed.hpp"

#include "models/clcp/info_nce.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"
#include "suite/dist/gather.hpp"

namespace clcp {

namespace {

void check_negatives(const std::string& negatives) {
  if (negatives != "local" && negatives != "global")
    fail("negatives \"{}\": expected \"local\" (per-rank InfoNCE, the thesis's DDP) or \"global\" (embeddings "
         "gathered from every rank)",
         negatives);
}

}  // namespace

torch::Tensor info_nce_rows(const torch::Tensor& q_img, const torch::Tensor& q_lid, const torch::Tensor& k_img,
                            const torch::Tensor& k_lid, const torch::Tensor& scale, int64_t offset) {
  if (q_img.dim() != 2 || q_img.sizes() != q_lid.sizes() || k_img.dim() != 2 || k_img.sizes() != k_lid.sizes() ||
      q_img.size(1) != k_img.size(1) || q_img.size(0) < 1 || offset < 0 || offset + q_img.size(0) > k_img.size(0))
    fail("info_nce_rows: queries {} / {} and keys {} / {} at offset {}: expected [b, D] queries, [N, D] keys and "
         "offset + b <= N",
         shape_str(q_img), shape_str(q_lid), shape_str(k_img), shape_str(k_lid), offset);
  namespace F = torch::nn::functional;
  const auto n = F::NormalizeFuncOptions().dim(1);
  const auto qa = F::normalize(q_img, n), qb = F::normalize(q_lid, n);
  const auto ka = F::normalize(k_img, n), kb = F::normalize(k_lid, n);
  const auto labels =
      torch::arange(offset, offset + q_img.size(0), torch::TensorOptions(torch::kLong).device(q_img.device()));
  return 0.5 * (F::cross_entropy(scale * qa.mm(kb.t()), labels) + F::cross_entropy(scale * qb.mm(ka.t()), labels));
}

torch::Tensor rank_contrastive_loss(dist::Comm& comm, const torch::Tensor& z_img, const torch::Tensor& z_lid,
                                    const torch::Tensor& scale, const std::string& negatives) {
  check_negatives(negatives);
  if (comm.world() == 1 || negatives == "local") return info_nce(z_img, z_lid, scale);
  const auto all_img = dist::gather_with_grad(comm, z_img);
  const auto all_lid = dist::gather_with_grad(comm, z_lid);
  return info_nce_rows(z_img, z_lid, all_img, all_lid, scale, comm.rank() * z_img.size(0));
}

int64_t negatives_per_query(int64_t batch, int world, const std::string& negatives) {
  check_negatives(negatives);
  return (negatives == "global" ? batch : batch / world) - 1;
}

}  // namespace clcp
