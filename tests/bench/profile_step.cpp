// Where one finetune train step of the Segmenter ViT-S/16 spends its time: LibTorch's profiler (RecordProfile, the
// chrome-trace writer of torch/csrc/autograd/profiler_legacy.h) around the step the product runs — forward under
// the precision's AutocastScope, mmseg's CE loss on fp32 logits upsampled to the crop, backward, SGD with momentum
// (suite/train/finetune.cpp) — batch 8 at 224², full finetuning, random weights.
//
//   profile_step OUT_DIR [STEPS]   writes OUT_DIR/step_fp32.trace.json and, when the CPU has AMX-BF16 or
//                                  AVX512-BF16, OUT_DIR/step_bf16.trace.json (STEPS profiled steps each, default 3,
//                                  after 2 unprofiled warm-up steps); tests/parity/profile_shares.py turns them into
//                                  shares of self time per op kind (GEMM, attention, norms, element-wise, dtype
//                                  conversions, loss, optimiser). Threads: CLCP_BENCH_THREADS (default 2).
// ci/bench.sh runs both.
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "models/precision.hpp"
#include "models/segmenter.hpp"
#include "suite/core/rng.hpp"
#include "suite/train/loss.hpp"

namespace {

using namespace clcp;

void profile(Precision precision, const std::filesystem::path& out, int steps) {
  Segmenter model;
  model->init_weights(0);
  model->train();
  auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(0, "bench/profile").next_u64());
  const auto x = at::randn({8, 3, 224, 224}, g, torch::TensorOptions().dtype(torch::kFloat32));
  const auto labels = at::randint(0, 19, {8, 224, 224}, g, torch::TensorOptions().dtype(torch::kLong));
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(1e-3).momentum(0.9).weight_decay(0.0));
  uint64_t step = 0;
  auto run = [&] {
    model->set_drop_path_key(0, step++);
    torch::Tensor logits, loss;
    {
      RECORD_FUNCTION("phase:forward", std::vector<c10::IValue>());
      AutocastScope amp(precision, c10::DeviceType::CPU);
      logits = model->forward(x);
    }
    {
      RECORD_FUNCTION("phase:loss", std::vector<c10::IValue>());
      loss = seg_cross_entropy(logits.to(torch::kFloat32), labels);
    }
    {
      RECORD_FUNCTION("phase:backward", std::vector<c10::IValue>());
      loss.backward();
    }
    RECORD_FUNCTION("phase:optimizer", std::vector<c10::IValue>());
    sgd.step();
    sgd.zero_grad();
  };
  for (int i = 0; i < 2; ++i) run();  // warm-up: allocator, oneDNN primitive caches, the momentum buffers
  {
    torch::autograd::profiler::RecordProfile guard(out.string());
    for (int i = 0; i < steps; ++i) {
      RECORD_FUNCTION("train_step", std::vector<c10::IValue>());
      run();
    }
  }
  std::cout << out.string() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: profile_step OUT_DIR [STEPS]\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int steps = argc > 2 ? std::atoi(argv[2]) : 3;
  const char* t = std::getenv("CLCP_BENCH_THREADS");
  torch::set_num_threads(t ? std::atoi(t) : 2);
  std::filesystem::create_directories(dir);
  profile(Precision::kFp32, dir / "step_fp32.trace.json", steps);
  if (cpu_bf16_isa() != "none") profile(Precision::kBf16, dir / "step_bf16.trace.json", steps);
  return 0;
}
