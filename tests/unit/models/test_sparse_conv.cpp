// Sparse convolution against known answers: torchsparse 1.4.0 offset order and kernel maps on hand-placed voxels,
// and every layer kind (forward, input gradient, weight gradient) against the dense conv3d / conv_transpose3d
// emulation of sparse_conv_reference.md §3.5 on random occupied grids.
#include <catch2/catch.hpp>

#include "dense_sparse_oracle.hpp"
#include "models/lidar/kernel_map.hpp"
#include "models/lidar/sparse_conv.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;
using namespace clcp::lidar;

namespace {

// Unique random voxels on a grid×grid×grid level-0 grid, on multiples of `stride`, `per_sample` per sample.
torch::Tensor random_coords(int64_t grid, int64_t stride, int64_t batch, int64_t per_sample, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t g = grid / stride;
  std::vector<torch::Tensor> all;
  for (int64_t b = 0; b < batch; ++b) {
    const auto cells = torch::randperm(g * g * g, gen, torch::kLong).narrow(0, 0, per_sample);
    const auto x = cells.div(g * g, "floor"), y = cells.div(g, "floor").remainder(g), z = cells.remainder(g);
    all.push_back(torch::stack({x * stride, y * stride, z * stride, torch::full_like(x, b)}, 1));
  }
  return torch::cat(all);
}

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed, torch::ScalarType dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn(shape, gen, torch::TensorOptions().dtype(dtype));
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-30);
  return (a - b).abs().max().item<double>() / scale;
}

struct LayerCase {
  int64_t kernel, in_stride;
  bool transposed;
};

// Runs one layer sparse and dense with the same input and weights; checks outputs and both gradients.
void check_layer(const LayerCase& lc, torch::ScalarType dtype, double tol) {
  const int64_t grid = 32, batch = 2, cin = 5, cout = 7;
  const int64_t fine = lc.transposed ? lc.in_stride / 2 : lc.in_stride;
  const auto coords = random_coords(grid, fine, batch, fine == 1 ? 2500 : 300, 11 + fine);
  auto base = SparseTensor::from_voxels(torch::zeros({coords.size(0), cin}, torch::TensorOptions().dtype(dtype)),
                                        coords);
  // Bring the input to its stride (and for a transposed conv, build the down map it reuses).
  SparseTensor x = base;
  while (x.stride < fine) x = sparse_conv3d(x.with_feats(torch::zeros({x.feats.size(0), cin}, x.feats.options())),
                                            torch::zeros({8, cin, cin}, x.feats.options()), {cin, cin, 2, 2, false});
  SparseTensor in = x;
  if (lc.transposed)
    in = sparse_conv3d(x, torch::zeros({8, cin, cin}, x.feats.options()), {cin, cin, 2, 2, false});
  const int64_t k_volume = lc.kernel * lc.kernel * lc.kernel;
  auto feats = randn({in.feats.size(0), cin}, 1, dtype).requires_grad_(true);
  auto w = (k_volume == 1 ? randn({cin, cout}, 2, dtype) : randn({k_volume, cin, cout}, 2, dtype)).requires_grad_(true);
  const SparseConvOptions o{cin, cout, lc.kernel, lc.kernel == 2 ? 2 : 1, lc.transposed};
  const SparseTensor y = sparse_conv3d(in.with_feats(feats), w, o);
  const auto r = randn({y.feats.size(0), cout}, 3, dtype);
  (y.feats * r).sum().backward();

  // Dense side.
  const int64_t s_in = in.stride, s_out = y.stride;
  auto xd = test::to_dense(feats.detach(), in.coords, s_in, grid, batch).requires_grad_(true);
  auto wd = w.detach().clone().requires_grad_(true);
  const auto m_in = test::occupancy(in.coords, s_in, grid, batch, dtype);
  const auto m_out = test::occupancy(y.coords, s_out, grid, batch, dtype);
  torch::Tensor yd;
  if (lc.kernel == 3) yd = test::dense_subm(xd, wd, m_in);
  else if (lc.kernel == 1) yd = test::dense_k1(xd, wd, m_in);
  else if (!lc.transposed) yd = test::dense_down(xd, wd, m_in, m_out);
  else yd = test::dense_up(xd, wd, m_in, m_out);
  (yd * test::to_dense(r, y.coords, s_out, grid, batch)).sum().backward();

  INFO("kernel " << lc.kernel << " input stride " << lc.in_stride << (lc.transposed ? " transposed" : "") << " "
                 << c10::toString(dtype) << ", " << y.feats.size(0) << " output voxels");
  // The output lies exactly on the mask's voxels: nothing outside.
  CHECK(test::to_dense(y.feats.detach(), y.coords, s_out, grid, batch).ne(0).logical_and(m_out.eq(0)).sum().item<int64_t>() == 0);
  CHECK(rel_diff(y.feats.detach(), test::gather_dense(yd.detach(), y.coords, s_out)) < tol);
  CHECK(rel_diff(feats.grad(), test::gather_dense(xd.grad(), in.coords, s_in)) < tol);
  CHECK(rel_diff(w.grad(), wd.grad()) < tol);
}

}  // namespace

TEST_CASE("kernel offsets follow torchsparse 1.4.0: x fastest for 27, z fastest for 8", "[lidar]") {
  const auto k3 = kernel_offsets(3);
  REQUIRE(k3.size() == 27);
  CHECK(k3[0] == std::array<int64_t, 3>{-1, -1, -1});
  CHECK(k3[1] == std::array<int64_t, 3>{0, -1, -1});
  CHECK(k3[2] == std::array<int64_t, 3>{1, -1, -1});
  CHECK(k3[3] == std::array<int64_t, 3>{-1, 0, -1});
  CHECK(k3[13] == std::array<int64_t, 3>{0, 0, 0});
  CHECK(k3[26] == std::array<int64_t, 3>{1, 1, 1});
  const auto k2 = kernel_offsets(2);
  REQUIRE(k2.size() == 8);
  CHECK(k2[1] == std::array<int64_t, 3>{0, 0, 1});
  CHECK(k2[2] == std::array<int64_t, 3>{0, 1, 0});
  CHECK(k2[4] == std::array<int64_t, 3>{1, 0, 0});
  CHECK(k2[7] == std::array<int64_t, 3>{1, 1, 1});
}

TEST_CASE("a submanifold map pairs hand-placed voxels by offset within one sample", "[lidar]") {
  // rows: 0 (0,0,0,b0)  1 (1,0,0,b0)  2 (0,0,0,b1)  3 (2,0,0,b0)  4 (1,1,1,b0)
  const auto c = torch::tensor({0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 1, 1, 0}, torch::kLong).view({5, 4});
  const KernelMap m = submanifold_map(c, 1);
  REQUIRE(m.centre_identity);
  REQUIRE(m.offsets.front().k == 13);
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> pairs;  // k → (in, out)
  for (size_t j = 1; j < m.offsets.size(); ++j)
    for (int64_t i = 0; i < m.offsets[j].in_rows.size(0); ++i)
      pairs[m.offsets[j].k].emplace_back(m.offsets[j].in_rows[i].item<int64_t>(), m.offsets[j].out_rows[i].item<int64_t>());
  // offset +x (k 14): out 0 ← in 1, out 1 ← in 3; offset −x (k 12): out 1 ← in 0, out 3 ← in 1.
  CHECK(pairs[14] == std::vector<std::pair<int64_t, int64_t>>{{1, 0}, {3, 1}});
  CHECK(pairs[12] == std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 3}});
  // (1,1,1) − (0,0,0) = (+1,+1,+1) → k 26 for out 0 and k 0 the other way; (1,1,1) − (1,0,0) = (0,+1,+1) → k 25,
  // k 1 back; (1,1,1) − (2,0,0) = (−1,+1,+1) → k 24, k 2 back.
  CHECK(pairs[26] == std::vector<std::pair<int64_t, int64_t>>{{4, 0}});
  CHECK(pairs[0] == std::vector<std::pair<int64_t, int64_t>>{{0, 4}});
  CHECK(pairs[25] == std::vector<std::pair<int64_t, int64_t>>{{4, 1}});
  CHECK(pairs[1] == std::vector<std::pair<int64_t, int64_t>>{{1, 4}});
  CHECK(pairs[24] == std::vector<std::pair<int64_t, int64_t>>{{4, 3}});
  CHECK(pairs[2] == std::vector<std::pair<int64_t, int64_t>>{{3, 4}});
  size_t total = 0;
  for (const auto& [k, v] : pairs) total += v.size();
  CHECK(total == 10);  // the batch-1 voxel has no neighbour
  // At tensor stride 2 the same voxels are not neighbours (offsets are ±2).
  const auto c2 = c * torch::tensor({2, 2, 2, 1}, torch::kLong);
  const KernelMap m2 = submanifold_map(c2, 2);
  size_t total2 = 0;
  for (size_t j = 1; j < m2.offsets.size(); ++j) total2 += m2.offsets[j].in_rows.size(0);
  CHECK(total2 == 10);
}

TEST_CASE("downsampling maps voxels to floor(c / 2s)·2s sorted by batch then x, y, z, with the child index", "[lidar]") {
  // rows: (3,1,0,b1) (0,0,1,b0) (1,1,1,b0) (2,0,0,b0) (5,4,3,b0)
  const auto c = torch::tensor({3, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 2, 0, 0, 0, 5, 4, 3, 0}, torch::kLong).view({5, 4});
  const DownsampleMap m = downsample_map(c, 1);
  const auto want_out = torch::tensor({0, 0, 0, 0, 2, 0, 0, 0, 4, 4, 2, 0, 2, 0, 0, 1}, torch::kLong).view({4, 4});
  CHECK(torch::equal(m.out_coords, want_out));
  CHECK(torch::equal(m.parent, torch::tensor({3, 0, 0, 1, 2}, torch::kLong)));
  // child = (x&1)·4 + (y&1)·2 + (z&1)
  CHECK(torch::equal(m.child, torch::tensor({6, 1, 7, 0, 5}, torch::kLong)));
  // at stride 2 the parents are multiples of 4
  const DownsampleMap m2 = downsample_map(m.out_coords, 2);
  CHECK(torch::equal(m2.out_coords, torch::tensor({0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, 1}, torch::kLong).view({3, 4})));
  CHECK(torch::equal(m2.child, torch::tensor({0, 4, 1, 4}, torch::kLong)));
}

TEST_CASE("every sparse layer kind equals the dense conv3d emulation, forward and both gradients", "[lidar]") {
  const std::vector<LayerCase> cases{{3, 1, false}, {3, 4, false}, {1, 1, false}, {2, 1, false},
                                     {2, 2, false}, {2, 2, true},  {2, 8, true}};
  for (const auto& lc : cases) {
    check_layer(lc, torch::kDouble, 1e-12);
    check_layer(lc, torch::kFloat, 1e-5);
  }
}

TEST_CASE("a transposed convolution without its encoder's downsampling map is refused", "[lidar]") {
  const auto coords = torch::tensor({0, 0, 0, 0, 2, 0, 0, 0}, torch::kLong).view({2, 4});
  auto x = SparseTensor::from_voxels(torch::ones({2, 3}), coords);
  x.stride = 2;
  const auto msg = test::error_of([&] { sparse_conv3d(x, torch::zeros({8, 3, 3}), {3, 3, 2, 2, true}); });
  CHECK_THAT(msg, Catch::Contains("no downsampling from stride 1 to 2"));
  CHECK_THAT(test::error_of([&] { SparseConv3d(SparseConvOptions{3, 3, 3, 2, false}); }),
             Catch::Contains("not a MinkUNet convolution"));
  CHECK_THAT(test::error_of([&] {
               SparseTensor::from_voxels(torch::ones({1, 3}), torch::tensor({-1, 0, 0, 0}, torch::kLong).view({1, 4}));
             }),
             Catch::Contains("voxel coordinate x spans [-1, -1]"));
}
