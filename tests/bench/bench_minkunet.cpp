// Speed of MinkUNet34-W32 on sparse convolution (models/lidar/), the counterpart of tests/parity/bench_spconv.py
// (the same network on spconv 2.3.8's CPU path): ci/bench_lidar.sh runs both on the same inputs and thread count and
// writes the side-by-side table.
//
//   gemm_fp32/2048                     torch::mm 2048×2048: the machine's measured fp32 GEMM rate (FLOP/s)
//   minkunet/<frame>/b<B>/{forward,train}
//       frame  synthetic  a VLP-16-like scan (16 beams, ±15°, 0.25° azimuth over the camera's ±30°) of a street:
//                         ground, two façades, cars — about 2,900 points per cloud as an A2D2 front-centre crop
//              a2d2       the real A2D2 npz of ../shared/realdata, cropped as in training (896×896 windows of
//                         row/col; B different windows), when CLCP_BENCH_A2D2 names the clouds file bench_lidar.sh
//                         prepares
//       forward = voxelise + kernel maps + network, eval, no grad; train = train mode, forward + sum().backward().
//       Counters: voxels/s, GFLOP/s (2 × multiply-accumulates actually executed / s, from SparseContext::macs)
//   dense/<grid>/forward, sparse/<grid>/forward   the dense conv3d emulation (sparse_conv_reference.md §3.5) and the
//                         sparse network on the same small synthetic scene (dense cannot hold a real frame: a 100 m
//                         cloud at 5 cm is a 2000³ grid)
// Threads: CLCP_BENCH_THREADS (default 2). CLCP_BENCH_LEVELS=1 prints voxels and kernel-map pairs per tensor stride.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>

#include "../unit/models/dense_sparse_oracle.hpp"
#include "models/lidar/minkunet.hpp"
#include "models/lidar/voxelize.hpp"
#include "models/safetensors.hpp"
#include "suite/core/rng.hpp"

namespace {

using namespace clcp;
using namespace clcp::lidar;

int threads() {
  const char* t = std::getenv("CLCP_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

// A VLP-16-like scan of a street from a sensor 1.7 m above the ground: x forward, y left, z up (metres).
torch::Tensor synthetic_cloud(uint64_t key) {
  Stream rng(0, "bench/lidar", key);
  const double half_width = 5 + 3 * rng.uniform(), car_x = 8 + 20 * rng.uniform(), car_y = -3 + 6 * rng.uniform();
  std::vector<float> pts;
  for (int beam = 0; beam < 16; ++beam) {
    const double el = (-15.0 + 2.0 * beam) * M_PI / 180;
    for (double az_deg = -30; az_deg < 30; az_deg += 0.25) {
      const double az = az_deg * M_PI / 180;
      const double dx = std::cos(el) * std::cos(az), dy = std::cos(el) * std::sin(az), dz = std::sin(el);
      double t = 100;  // range limit
      if (dz < 0) t = std::min(t, -1.7 / dz);                       // ground
      if (dy > 0) t = std::min(t, half_width / dy);                 // left façade
      if (dy < 0) t = std::min(t, -half_width / dy);                // right façade
      // a car: box x ∈ [car_x, car_x + 4], y ∈ [car_y − 0.9, car_y + 0.9], z ∈ [−1.7, −0.2]
      const double tc = car_x / dx;
      if (tc > 0 && tc < t) {
        const double y = tc * dy, z = tc * dz;
        if (std::abs(y - car_y) < 0.9 && z > -1.7 && z < -0.2) t = tc;
      }
      if (t >= 100 || rng.bernoulli(0.1)) continue;  // no return, dropout
      t += 0.02 * rng.normal();
      pts.insert(pts.end(), {static_cast<float>(t * dx), static_cast<float>(t * dy), static_cast<float>(t * dz),
                             static_cast<float>(rng.randint(1, 256))});
    }
  }
  return torch::from_blob(pts.data(), {static_cast<int64_t>(pts.size() / 4), 4}, torch::kFloat).clone();
}

std::vector<torch::Tensor> clouds(const std::string& frame, int64_t batch) {
  std::vector<torch::Tensor> out;
  if (frame == "a2d2") {
    const char* file = std::getenv("CLCP_BENCH_A2D2");
    if (!file) return out;
    const auto t = load_safetensors(file);
    for (int64_t b = 0; b < batch && t.count("cloud" + std::to_string(b)); ++b)
      out.push_back(t.at("cloud" + std::to_string(b)));
    if (static_cast<int64_t>(out.size()) < batch) out.clear();
    return out;
  }
  for (int64_t b = 0; b < batch; ++b) out.push_back(synthetic_cloud(static_cast<uint64_t>(b)));
  return out;
}

MinkUNet& network() {
  static MinkUNet net = [] {
    torch::set_num_threads(threads());
    MinkUNet n;
    n->init_weights(0);
    return n;
  }();
  return net;
}

void BM_gemm(benchmark::State& state) {
  torch::set_num_threads(threads());
  auto g = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto a = torch::randn({2048, 2048}, g), b = torch::randn({2048, 2048}, g);
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b));
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * 2048 * 2048 * 2048, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_minkunet(benchmark::State& state, const std::string& frame, int64_t batch, bool train) {
  const auto cl = clouds(frame, batch);
  if (cl.empty()) {
    state.SkipWithError("no A2D2 clouds (run ci/bench_lidar.sh, which prepares CLCP_BENCH_A2D2)");
    return;
  }
  auto& net = network();
  int64_t voxels = 0, macs = 0, points = 0;
  for (const auto& c : cl) points += c.size(0);
  for (auto _ : state) {
    const VoxelBatch v = voxelize(cl, 0.05);
    auto input = SparseTensor::from_voxels(v.feats, v.coords);
    if (train) {
      net->train();
      net->zero_grad();
      net->forward(input).sum().backward();
    } else {
      net->eval();
      torch::NoGradGuard ng;
      benchmark::DoNotOptimize(net->forward(input));
    }
    voxels = v.feats.size(0);
    macs = input.ctx->macs;
    if (std::getenv("CLCP_BENCH_LEVELS"))
      for (const auto& [st, m] : input.ctx->submanifold) {
        int64_t pairs = 0;
        for (const auto& o : m.offsets) pairs += o.in_rows.size(0);
        fprintf(stderr, "stride %ld: %ld voxels, %.2f pairs per voxel\n", st, m.n_in, double(pairs) / m.n_in);
      }
  }
  state.counters["voxels"] = static_cast<double>(voxels);
  state.counters["points"] = static_cast<double>(points);
  state.counters["voxels/s"] = benchmark::Counter(static_cast<double>(voxels), benchmark::Counter::kIsIterationInvariantRate);
  // forward MACs; a backward costs about two forwards more (input and weight gradients)
  const double flops = 2.0 * static_cast<double>(macs) * (train ? 3.0 : 1.0);
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// A small occupied grid for the dense/sparse comparison: the synthetic scan voxelised at 0.5 m into a 64³ grid.
struct SmallScene {
  torch::Tensor feats, coords;
  std::map<int64_t, torch::Tensor> masks;
};
const SmallScene& small_scene() {
  static SmallScene s = [] {
    SmallScene sc;
    const VoxelBatch v = voxelize({synthetic_cloud(7)}, 0.5);
    const auto keep = v.coords.narrow(1, 0, 3).lt(64).all(1);
    sc.coords = v.coords.index({keep});
    sc.feats = v.feats.index({keep});
    sc.masks[1] = test::occupancy(sc.coords, 1, 64, 1, torch::kFloat);
    for (int64_t st = 2; st <= 16; st *= 2) sc.masks[st] = torch::max_pool3d(sc.masks[st / 2], 2, 2);
    return sc;
  }();
  return s;
}

void BM_dense(benchmark::State& state) {
  const auto& sc = small_scene();
  auto& net = network();
  net->eval();
  torch::NoGradGuard ng;
  const auto x = test::to_dense(sc.feats, sc.coords, 1, 64, 1);
  for (auto _ : state) benchmark::DoNotOptimize(test::dense_minkunet(*net, x, sc.masks));
  state.counters["voxels"] = static_cast<double>(sc.coords.size(0));
}

void BM_sparse_small(benchmark::State& state) {
  const auto& sc = small_scene();
  auto& net = network();
  net->eval();
  torch::NoGradGuard ng;
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(SparseTensor::from_voxels(sc.feats, sc.coords)));
  state.counters["voxels"] = static_cast<double>(sc.coords.size(0));
}

}  // namespace

BENCHMARK(BM_gemm)->Name("gemm_fp32/2048")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, synthetic_b1_fwd, "synthetic", 1, false)->Name("minkunet/synthetic/b1/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, synthetic_b1_train, "synthetic", 1, true)->Name("minkunet/synthetic/b1/train")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, synthetic_b16_fwd, "synthetic", 16, false)->Name("minkunet/synthetic/b16/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, synthetic_b16_train, "synthetic", 16, true)->Name("minkunet/synthetic/b16/train")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, a2d2_b1_fwd, "a2d2", 1, false)->Name("minkunet/a2d2/b1/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, a2d2_b1_train, "a2d2", 1, true)->Name("minkunet/a2d2/b1/train")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, a2d2_b16_fwd, "a2d2", 16, false)->Name("minkunet/a2d2/b16/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_minkunet, a2d2_b16_train, "a2d2", 16, true)->Name("minkunet/a2d2/b16/train")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_dense)->Name("dense/64/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sparse_small)->Name("sparse/64/forward")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
