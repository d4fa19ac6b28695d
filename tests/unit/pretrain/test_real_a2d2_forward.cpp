// The real A2D2 lidar file through the whole lidar half of pretraining: reader → undistortion and crop → voxels →
// MinkUNet34-W32 forward (random weights, eval BatchNorm). Skips visibly when ../shared/realdata is absent.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <tuple>

#include "models/lidar/minkunet.hpp"
#include "models/lidar/sparse_tensor.hpp"
#include "models/lidar/voxelize.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/a2d2_sample.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

TEST_CASE("the real A2D2 frame goes through reader, crop, voxels and a MinkUNet34-W32 forward", "[pretrain][realdata]") {
  const fs::path real = fs::path(CLCP_REALDATA_DIR) / "a2d2";
  const fs::path npz = real / "camera_lidar_semantic_bboxes/20180810_142822/lidar/cam_front_center/"
                              "20180810142822_lidar_frontcenter_000015196.npz";
  const fs::path png = real / "camera_lidar_semantic/20181107_133258/camera/cam_front_center/"
                              "20181107133258_camera_frontcenter_000000250.png";
  if (!fs::exists(npz) || !fs::exists(png)) {
    WARN("skipped: the real A2D2 samples are absent under " << real.string());
    return;
  }
  // The public files are a lidar frame and a camera frame of two scenes (SOURCES.md §2), laid out as one pair.
  const fs::path tmp = fs::temp_directory_path() / ("clcp_real_a2d2_forward_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  const fs::path root = tmp / "camera_lidar_semantic";
  fs::create_directories(root / "20180810_142822/lidar/cam_front_center");
  fs::create_directories(root / "20180810_142822/camera/cam_front_center");
  fs::create_symlink(npz, root / "20180810_142822/lidar/cam_front_center" / npz.filename());
  fs::create_symlink(png, root / "20180810_142822/camera/cam_front_center/20180810142822_camera_frontcenter_000015196.png");
  fs::create_symlink(real / "cams_lidars.json", tmp / "cams_lidars.json");
  const A2D2Dataset d = read_a2d2(root, A2D2Options{});
  REQUIRE(d.pairs.size() == 1);
  const PairSplit split = a2d2_split(d, "train");
  const Undistorter und(split.camera);
  const PairSample s = load_pair_sample(split, und, PairPipelineOptions{}, 0, PairMode::kTrain, 0, 0, 0);
  REQUIRE(s.points.size(0) > 800);

  // Known answer for the voxel count: distinct round-half-even(xyz / 5 cm) in float32, as mmdet3d (torch.round).
  std::set<std::tuple<int64_t, int64_t, int64_t>> keys;
  const auto p = s.points.contiguous();
  const float* v = p.data_ptr<float>();
  for (int64_t i = 0; i < p.size(0); ++i)
    keys.emplace(static_cast<int64_t>(std::nearbyint(v[4 * i] / 0.05f)),
                 static_cast<int64_t>(std::nearbyint(v[4 * i + 1] / 0.05f)),
                 static_cast<int64_t>(std::nearbyint(v[4 * i + 2] / 0.05f)));
  const lidar::VoxelBatch vb = lidar::voxelize({s.points}, 0.05);
  CHECK(vb.feats.size(0) == static_cast<int64_t>(keys.size()));
  CHECK(vb.voxels_per_sample == std::vector<int64_t>{static_cast<int64_t>(keys.size())});

  torch::NoGradGuard no_grad;
  lidar::MinkUNet net;
  net->init_weights(0);
  net->eval();
  const auto x = lidar::SparseTensor::from_voxels(vb.feats, vb.coords);
  const torch::Tensor out = net->forward(x);
  CHECK(out.sizes() == std::vector<int64_t>{vb.feats.size(0), 96});
  CHECK(out.isfinite().all().item<bool>());
  CHECK(out.abs().sum().item<double>() > 0);  // ReLU outputs, not all zero
  // Deterministic: a second forward on freshly built kernel maps gives the same bytes.
  const torch::Tensor again = net->forward(lidar::SparseTensor::from_voxels(vb.feats, vb.coords));
  CHECK(torch::equal(out, again));
  WARN("real A2D2 crop: " << s.points.size(0) << " points → " << vb.feats.size(0) << " voxels → features "
                          << out.size(0) << "×" << out.size(1));
  fs::remove_all(tmp);
}
