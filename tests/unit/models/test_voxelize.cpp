// Voxelisation as mmdet3d 1.4.0 (sparse_conv_reference.md §2.2) on hand-made points with known answers.
#include <catch2/catch.hpp>

#include "models/lidar/voxelize.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;
using namespace clcp::lidar;

namespace {
torch::Tensor pts(std::vector<float> v) { return torch::tensor(v).view({-1, 4}); }
std::vector<int64_t> flat(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
}  // namespace

TEST_CASE("voxel coordinates round half to even and start at the per-sample minimum", "[lidar]") {
  // voxel 0.5 m: x/0.5 = 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → −0 (0), −1.5 → −2
  const auto p = pts({0.25f, 0, 0, 1, 0.75f, 0, 0, 2, 1.25f, 0, 0, 3, -0.25f, 0, 0, 4, -0.75f, 0, 0, 5});
  const VoxelBatch v = voxelize({p}, 0.5);
  // rounded x: 0, 2, 2, 0, −2 → minus min (−2): 2, 4, 4, 2, 0 → distinct 0, 2, 4
  CHECK(flat(v.coords) == std::vector<int64_t>{0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0});
  // representatives: the first point of each voxel — x=0 voxel: point 4; x=2: point 0; x=4: point 1 (not 2)
  CHECK(torch::equal(v.feats.select(1, 3), torch::tensor({5.0f, 1.0f, 2.0f})));
  CHECK(flat(v.point_to_voxel) == std::vector<int64_t>{1, 2, 2, 1, 0});
  CHECK(v.voxels_per_sample == std::vector<int64_t>{3});
}

TEST_CASE("voxels are sorted by x, then y, then z, and the batch index is the last column", "[lidar]") {
  const auto a = pts({0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0});  // (0,1,0) (0,0,1) (1,0,0) (0,0,0) at 1 m
  const auto b = pts({5, 5, 5, 9, 5, 5, 5, 8});                          // duplicates: one voxel, first wins
  const VoxelBatch v = voxelize({a, b}, 1.0);
  CHECK(flat(v.coords) == std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1});
  CHECK(v.voxels_per_sample == std::vector<int64_t>{4, 1});
  CHECK(flat(v.batch_index) == std::vector<int64_t>{0, 0, 0, 0, 1});
  CHECK(v.feats[4][3].item<float>() == 9.0f);
  CHECK(flat(v.point_to_voxel) == std::vector<int64_t>{2, 1, 3, 0, 4, 4});
}

TEST_CASE("voxelize at 5 cm keeps metres and reflectance of the representative point", "[lidar]") {
  const auto p = pts({10.01f, -2.0f, -1.7f, 37, 10.02f, -2.0f, -1.7f, 12, 3.0f, 0.5f, 0.2f, 200});
  const VoxelBatch v = voxelize({p}, 0.05);
  REQUIRE(v.voxels_per_sample == std::vector<int64_t>{2});
  // round(3/0.05)=60, round(10.01/0.05)=200 (10.02/0.05 = 200.4 → 200, same voxel) → x 0 and 140
  CHECK(flat(v.coords.select(1, 0)) == std::vector<int64_t>{0, 140});
  CHECK(v.feats[1][3].item<float>() == 37.0f);
  CHECK(v.feats[1][0].item<float>() == 10.01f);
}

TEST_CASE("voxelize refuses empty, malformed and non-finite clouds with one line", "[lidar]") {
  CHECK_THAT(test::error_of([] { voxelize({pts({0, 0, 0, 1}), torch::zeros({0, 4})}); }),
             Catch::Contains("sample 1 has no points"));
  CHECK_THAT(test::error_of([] { voxelize({torch::zeros({3, 3})}); }), Catch::Contains("expected float [N, 4]"));
  CHECK_THAT(test::error_of([] { voxelize({pts({0, NAN, 0, 1})}); }), Catch::Contains("NaN/Inf"));
}
