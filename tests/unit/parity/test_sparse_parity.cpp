// Sparse convolution against spconv 2.3.8's CPU implementation (ConvAlgo.Native), the second oracle beside the dense
// emulation (tests/unit/models/test_sparse_conv.cpp): every MinkUNet layer kind, forward and both gradients, with
// the torchsparse → spconv weight conversion of sparse_conv_reference.md §2.5 (tests/parity/spconv_oracle.py).
// Rows are matched by coordinates (spconv's CPU output order is first-seen, §3.3). Skips visibly without spconv.
#include <catch2/catch.hpp>

#include "models/lidar/kernel_map.hpp"
#include "models/lidar/sparse_conv.hpp"
#include "models/safetensors.hpp"
#include "oracle.hpp"

using namespace clcp;
using namespace clcp::lidar;

namespace {

torch::Tensor random_coords(int64_t stride, int64_t batch, int64_t per_sample, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t g = 32 / stride;
  std::vector<torch::Tensor> all;
  for (int64_t b = 0; b < batch; ++b) {
    const auto cells = torch::randperm(g * g * g, gen, torch::kLong).narrow(0, 0, per_sample);
    all.push_back(torch::stack({cells.div(g * g, "floor") * stride, cells.div(g, "floor").remainder(g) * stride,
                                cells.remainder(g) * stride, torch::full_like(cells, b)}, 1));
  }
  return torch::cat(all);
}

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn(shape, gen, torch::kDouble);
}

// Rows of `rows` (keyed by rows_coords) in the order of want_coords.
torch::Tensor in_order(const torch::Tensor& rows, const torch::Tensor& rows_coords, const torch::Tensor& want_coords) {
  const auto kr = pack_keys(rows_coords), kw = pack_keys(want_coords);
  const auto [sorted, order] = kr.sort();
  const auto pos = torch::searchsorted(sorted, kw);
  REQUIRE(torch::equal(sorted.index_select(0, pos), kw));
  return rows.index_select(0, order.index_select(0, pos));
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

struct Case {
  std::string name;
  int64_t kind, stride;  // kind: 3 submanifold, 1 k1, 2 down, -2 transposed (input at 2·stride, output at stride)
};

}  // namespace

TEST_CASE("sparse convolution equals spconv 2.3.8 on CPU for every MinkUNet layer kind, forward and gradients",
          "[parity][lidar]") {
  CLCP_REQUIRE_ORACLE();
  parity::TempDir dir("spconv");
  const std::vector<Case> cases{{"subm_s1", 3, 1}, {"subm_s4", 3, 4}, {"k1", 1, 1},
                                {"down_s1", 2, 1}, {"down_s2", 2, 2}, {"up_s1", -2, 1}, {"up_s4", -2, 4}};
  const int64_t cin = 6, cout = 5;
  std::map<std::string, torch::Tensor> in;
  struct Ours {
    torch::Tensor coords, out_coords, out, grad_feats, grad_kernel, in_coords;
  };
  std::map<std::string, Ours> ours;
  uint64_t seed = 100;
  for (const auto& c : cases) {
    const auto coords = random_coords(c.stride, 2, c.stride == 1 ? 1500 : 200, seed++);
    const int64_t volume = c.kind == 3 ? 27 : c.kind == 1 ? 1 : 8;
    auto kernel = (volume == 1 ? randn({cin, cout}, seed++) : randn({volume, cin, cout}, seed++)).requires_grad_(true);
    auto base = SparseTensor::from_voxels(torch::zeros({coords.size(0), cin}, torch::kDouble), coords);
    // Bring the tensor to its stride (coordinates are already multiples of it; the maps are built on the way).
    SparseTensor x = base;
    while (x.stride < c.stride) x = sparse_conv3d(x, torch::zeros({8, cin, cin}, torch::kDouble), {cin, cin, 2, 2});
    SparseTensor input = x;
    if (c.kind == -2) input = sparse_conv3d(x, torch::zeros({8, cin, cin}, torch::kDouble), {cin, cin, 2, 2});
    auto feats = randn({input.feats.size(0), cin}, seed++).requires_grad_(true);
    const SparseConvOptions o{cin, cout, c.kind == 3 ? 3 : c.kind == 1 ? 1 : 2, (c.kind == 2 || c.kind == -2) ? 2 : 1,
                              c.kind == -2};
    const SparseTensor y = sparse_conv3d(input.with_feats(feats), kernel, o);
    const auto grad = randn({y.feats.size(0), cout}, seed++);
    (y.feats * grad).sum().backward();
    ours[c.name] = {x.coords, y.coords, y.feats.detach(), feats.grad(), kernel.grad(), input.coords};
    in[c.name + ".coords"] = x.coords.to(torch::kInt);
    in[c.name + ".stride"] = torch::tensor(c.stride, torch::kLong);
    in[c.name + ".kind"] = torch::tensor(c.kind, torch::kLong);
    in[c.name + ".kernel"] = kernel.detach();
    in[c.name + ".grad"] = grad;
    in[c.name + ".out_coords"] = y.coords.to(torch::kInt);
    in[c.name + ".feats"] = c.kind == -2 ? torch::zeros({x.coords.size(0), cin}, torch::kDouble) : feats.detach();
    if (c.kind == -2) {
      in[c.name + ".coarse_coords"] = input.coords.to(torch::kInt);
      in[c.name + ".coarse_feats"] = feats.detach();
    }
  }
  save_safetensors(dir.path / "in.safetensors", in);
  if (!parity::run_oracle_checked("spconv_oracle.py",
                                  "'" + (dir.path / "in.safetensors").string() + "' '" +
                                      (dir.path / "out.safetensors").string() + "'",
                                  dir.path))
    return;
  const auto out = load_safetensors(dir.path / "out.safetensors");
  for (const auto& c : cases) {
    const Ours& m = ours[c.name];
    const auto sp_coords = out.at(c.name + ".out_coords").to(torch::kLong);
    INFO(c.name << ": " << m.out_coords.size(0) << " output voxels");
    REQUIRE(sp_coords.size(0) == m.out_coords.size(0));
    const auto sp_out = in_order(out.at(c.name + ".out_feats"), sp_coords, m.out_coords);
    const double r_out = rel(m.out, sp_out), r_gin = rel(m.grad_feats, out.at(c.name + ".grad_feats")),
                 r_gw = rel(m.grad_kernel, out.at(c.name + ".grad_kernel"));
    INFO("relative differences: output " << r_out << ", input gradient " << r_gin << ", weight gradient " << r_gw);
    CHECK(r_out < 1e-12);
    CHECK(r_gin < 1e-12);
    CHECK(r_gw < 1e-12);
  }
}
