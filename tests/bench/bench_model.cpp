// Speed of the thesis model in clcp-bench (LibTorch), the counterpart of tests/parity/bench_torch.py (PyTorch +
// mmseg): ci/bench.sh runs both with the same thread count and writes the side-by-side table.
//
//   gemm_{fp32,bf16}/2048   torch::mm of two 2048×2048 matrices: the machine's measured GEMM rate (FLOP/s)
//   forward/{fp32,bf16,amp} Segmenter ViT-S/16 + mask head, eval, no grad, batch 8 at 224² → images/s
//   train_step/{…}          train mode: forward, mmseg CE loss (logits upsampled to 224², ignore 255), backward
//   slide/1024x2048/bw{1,8} slide inference (224 / stride 168, 72 windows) of one 1024×2048 frame, bw = windows per
//                           forward (mmseg runs 1; our default is 8)
// bf16 = the model and inputs converted to bfloat16 (no autocast); amp = what `train.precision: "bf16"` runs: fp32
// weights and inputs, the forward under AutocastScope (models/precision.hpp), the loss on fp32 logits — the
// counterpart of torch.autocast("cpu", dtype=torch.bfloat16) in bench_torch.py. Both only when the CPU has
// avx512_bf16 or AMX.
// Threads: CLCP_BENCH_THREADS (default 2). FLOP rates: counters "FLOP/s" (GEMM) and "images/s" / "frames/s".
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "models/precision.hpp"
#include "models/segmenter.hpp"
#include "suite/core/rng.hpp"
#include "suite/eval/slide.hpp"
#include "suite/train/loss.hpp"

namespace {

using namespace clcp;

int threads() {
  const char* t = std::getenv("CLCP_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

bool cpu_has_bf16() {
  std::ifstream in("/proc/cpuinfo");
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  return all.find("avx512_bf16") != std::string::npos || all.find("amx_bf16") != std::string::npos;
}

torch::Tensor randn(at::IntArrayRef shape, uint64_t key) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(0, "bench/input", key).next_u64());
  return at::randn(shape, g, torch::TensorOptions().dtype(torch::kFloat32));
}

Segmenter make_model(torch::Dtype dtype) {
  Segmenter model;
  model->init_weights(0);
  model->to(dtype);
  return model;
}

void BM_gemm(benchmark::State& state, torch::Dtype dtype) {
  if (dtype == torch::kBFloat16 && !cpu_has_bf16()) return state.SkipWithError("no avx512_bf16/amx on this CPU");
  torch::set_num_threads(threads());
  const int64_t n = state.range(0);
  const auto a = randn({n, n}, 1).to(dtype), b = randn({n, n}, 2).to(dtype);
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b));
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_gemm, fp32, torch::kFloat32)->Name("gemm_fp32")->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_gemm, bf16, torch::kBFloat16)->Name("gemm_bf16")->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

// amp: fp32 model and inputs, bf16 autocast around the forward (the product's bf16 precision).
void BM_forward(benchmark::State& state, torch::Dtype dtype, bool amp) {
  if ((amp || dtype == torch::kBFloat16) && !cpu_has_bf16())
    return state.SkipWithError("no avx512_bf16/amx on this CPU");
  torch::set_num_threads(threads());
  auto model = make_model(dtype);
  model->eval();
  const auto x = randn({8, 3, 224, 224}, 3).to(dtype);
  torch::NoGradGuard no_grad;
  const Precision p = amp ? Precision::kBf16 : Precision::kFp32;
  auto run = [&] {
    AutocastScope scope(p, c10::DeviceType::CPU);
    return model->forward(x);
  };
  run();  // warm-up (allocator, oneDNN primitive caches)
  for (auto _ : state) benchmark::DoNotOptimize(run());
  state.counters["images/s"] = benchmark::Counter(8, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_forward, fp32, torch::kFloat32, false)->Name("forward/fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_forward, bf16, torch::kBFloat16, false)->Name("forward/bf16")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_forward, amp, torch::kFloat32, true)->Name("forward/amp")->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_train_step(benchmark::State& state, torch::Dtype dtype, bool amp) {
  if ((amp || dtype == torch::kBFloat16) && !cpu_has_bf16())
    return state.SkipWithError("no avx512_bf16/amx on this CPU");
  const Precision p = amp ? Precision::kBf16 : Precision::kFp32;
  torch::set_num_threads(threads());
  auto model = make_model(dtype);
  model->train();
  const auto x = randn({8, 3, 224, 224}, 4).to(dtype);
  auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(0, "bench/labels").next_u64());
  const auto labels = at::randint(0, 19, {8, 224, 224}, g, torch::TensorOptions().dtype(torch::kLong));
  uint64_t step = 0;
  auto run = [&] {
    model->set_drop_path_key(0, step++);
    model->zero_grad();
    torch::Tensor logits;
    {
      AutocastScope scope(p, c10::DeviceType::CPU);
      logits = model->forward(x);
    }
    auto loss = seg_cross_entropy(logits.to(torch::kFloat32), labels);
    loss.backward();
    return loss;
  };
  run();  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(run());
  state.counters["images/s"] = benchmark::Counter(8, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_train_step, fp32, torch::kFloat32, false)->Name("train_step/fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_train_step, bf16, torch::kBFloat16, false)->Name("train_step/bf16")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_train_step, amp, torch::kFloat32, true)->Name("train_step/amp")->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_slide(benchmark::State& state) {
  torch::set_num_threads(threads());
  auto model = make_model(torch::kFloat32);
  model->eval();
  const auto image = randn({1, 3, 1024, 2048}, 5);
  SlideOptions opts;
  opts.batch_windows = state.range(0);
  const LogitsFn fn = [&](const torch::Tensor& w) { return model->forward(w); };
  for (auto _ : state) benchmark::DoNotOptimize(slide_inference(fn, image, opts));
  state.counters["frames/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_slide)->Name("slide/1024x2048/bw")->Arg(1)->Arg(8)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
