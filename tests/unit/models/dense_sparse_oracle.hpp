// The dense-convolution oracle for sparse convolution (sparse_conv_reference.md §3.5): on a small dense grid whose
// extent is divisible by 16, an occupancy mask M_s per tensor stride (M_2s = max_pool3d(M_s, 2, 2)) and LibTorch's own
// conv3d / conv_transpose3d reproduce every MinkUNet layer exactly:
//   submanifold k3:  Y = conv3d(X·M_s, Wd, padding 1)·M_s,      Wd[o,i,a,b,c] = W[c·9 + b·3 + a, i, o]
//   down k2 s2:      Y = conv3d(X·M_s, Wd, stride 2)·M_2s,      Wd[o,i,a,b,c] = W[a·4 + b·2 + c, i, o]
//   up k2 s2:        Y = conv_transpose3d(X·M_2s, Wt, stride 2)·M_s, Wt[i,o,a,b,c] = W[a·4 + b·2 + c, i, o]
//   k1:              Y = einsum(X, W)·M_s
// Dense tensors are [B, C, X, Y, Z]; the dense cell of a voxel at stride s is coords / s. Test-only.
#pragma once
#include <torch/torch.h>

#include "models/lidar/minkunet.hpp"

namespace clcp::test {

/// Row of each voxel in a [B·g³] flattening of the dense grid at tensor stride `stride` (g cells per axis).
inline torch::Tensor cell_index(const torch::Tensor& c, int64_t stride, int64_t g) {
  auto axis = [&](int a) { return c.select(1, a).div(stride, "floor"); };
  return ((c.select(1, 3) * g + axis(0)) * g + axis(1)) * g + axis(2);
}

/// Scatters sparse rows into a dense [B, C, G/s, G/s, G/s] grid (zeros elsewhere).
inline torch::Tensor to_dense(const torch::Tensor& feats, const torch::Tensor& coords, int64_t stride, int64_t grid,
                              int64_t batch) {
  const int64_t g = grid / stride;
  auto d = torch::zeros({batch, feats.size(1), g, g, g}, feats.options());
  const auto c = coords.to(torch::kLong);
  const auto flat = cell_index(c, stride, g);
  // [B·g³, C] ← rows at their cells
  const auto rows = d.permute({0, 2, 3, 4, 1}).reshape({batch * g * g * g, feats.size(1)}).index_copy(0, flat, feats);
  return rows.view({batch, g, g, g, feats.size(1)}).permute({0, 4, 1, 2, 3}).contiguous();
}

/// Rows of a dense grid at the given voxel coordinates: [N, C].
inline torch::Tensor gather_dense(const torch::Tensor& dense, const torch::Tensor& coords, int64_t stride) {
  const int64_t batch = dense.size(0), ch = dense.size(1), g = dense.size(2);
  const auto c = coords.to(torch::kLong);
  const auto flat = cell_index(c, stride, g);
  return dense.permute({0, 2, 3, 4, 1}).reshape({batch * g * g * g, ch}).index_select(0, flat);
}

inline torch::Tensor occupancy(const torch::Tensor& coords, int64_t stride, int64_t grid, int64_t batch,
                               torch::ScalarType dtype) {
  return to_dense(torch::ones({coords.size(0), 1}, torch::TensorOptions().dtype(dtype)), coords, stride, grid, batch);
}

inline torch::Tensor subm_weight(const torch::Tensor& w) {  // [27, Cin, Cout] → [Cout, Cin, 3, 3, 3]
  return w.view({3, 3, 3, w.size(1), w.size(2)}).permute({4, 3, 2, 1, 0});
}
inline torch::Tensor down_weight(const torch::Tensor& w) {  // [8, Cin, Cout] → [Cout, Cin, 2, 2, 2]
  return w.view({2, 2, 2, w.size(1), w.size(2)}).permute({4, 3, 0, 1, 2});
}
inline torch::Tensor up_weight(const torch::Tensor& w) {  // [8, Cin, Cout] → [Cin, Cout, 2, 2, 2]
  return w.view({2, 2, 2, w.size(1), w.size(2)}).permute({3, 4, 0, 1, 2});
}

inline torch::Tensor dense_subm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& m) {
  return torch::conv3d(x * m, subm_weight(w), {}, 1, 1) * m;
}
inline torch::Tensor dense_down(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& m_fine,
                                const torch::Tensor& m_coarse) {
  return torch::conv3d(x * m_fine, down_weight(w), {}, 2) * m_coarse;
}
inline torch::Tensor dense_up(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& m_coarse,
                              const torch::Tensor& m_fine) {
  return torch::conv_transpose3d(x * m_coarse, up_weight(w), {}, 2) * m_fine;
}
inline torch::Tensor dense_k1(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& m) {
  return torch::einsum("bixyz,io->boxyz", {x, w}) * m;
}

/// Eval-mode BatchNorm on dense [B, C, …] with the module's running statistics, then the mask (BN of an empty cell
/// would otherwise become its bias).
inline torch::Tensor dense_bn(const torch::nn::BatchNorm1d& bn, const torch::Tensor& x, const torch::Tensor& m) {
  return torch::batch_norm(x, bn->weight, bn->bias, bn->running_mean, bn->running_var, false, 0.0,
                           bn->options.eps(), false) * m;
}

/// MinkUNet34 in eval mode on the dense grid. masks[s] for s = 1, 2, 4, 8, 16. Returns [B, 96, G, G, G].
inline torch::Tensor dense_minkunet(lidar::MinkUNetImpl& net, torch::Tensor x,
                                    const std::map<int64_t, torch::Tensor>& masks) {
  auto block = [&](lidar::SparseBasicBlockImpl& b, const torch::Tensor& in, const torch::Tensor& m) {
    auto h = torch::relu(dense_bn(b.bn1, dense_subm(in, b.conv1->kernel, m), m));
    h = dense_bn(b.bn2, dense_subm(h, b.conv2->kernel, m), m);
    const auto skip = b.skip_conv ? dense_bn(b.skip_bn, dense_k1(in, b.skip_conv->kernel, m), m) : in;
    return torch::relu(h + skip);
  };
  const auto& m1 = masks.at(1);
  for (auto& c : net.conv_input) x = torch::relu(dense_bn(c->bn, dense_subm(x, c->conv->kernel, m1), m1));
  std::vector<torch::Tensor> laterals{x};
  int64_t s = 1;
  for (size_t i = 0; i < net.encoder_down.size(); ++i) {
    auto& d = net.encoder_down[i];
    x = torch::relu(dense_bn(d->bn, dense_down(x, d->conv->kernel, masks.at(s), masks.at(2 * s)), masks.at(2 * s)));
    s *= 2;
    for (auto& b : net.encoder_blocks[i]) x = block(*b, x, masks.at(s));
    laterals.push_back(x);
  }
  laterals.pop_back();
  for (size_t i = 0; i < net.decoder_up.size(); ++i) {
    auto& u = net.decoder_up[i];
    x = torch::relu(dense_bn(u->bn, dense_up(x, u->conv->kernel, masks.at(s), masks.at(s / 2)), masks.at(s / 2)));
    s /= 2;
    x = torch::cat({x, laterals[laterals.size() - 1 - i]}, 1);
    for (auto& b : net.decoder_blocks[i]) x = block(*b, x, masks.at(s));
  }
  return x;
}

}  // namespace clcp::test
