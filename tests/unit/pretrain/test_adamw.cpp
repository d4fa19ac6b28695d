// LibTorch's AdamW with the thesis's settings equals torch.optim.AdamW (the Python the thesis used) step for step.
#include <catch2/catch.hpp>

#include "models/safetensors.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;

namespace {
// Three steps on a tiny model with fixed gradients; writes the start parameters, the gradients and each step's result.
const char* const kTorchAdamW = R"PY(
import sys, torch
from safetensors.torch import save_file
torch.manual_seed(0)
w = torch.nn.Parameter(torch.randn(4, 3)); t = torch.nn.Parameter(torch.tensor(0.07))
out = {'w0': w.detach().clone(), 't0': t.detach().clone()}
opt = torch.optim.AdamW([w, t], lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=1e-2)
for s in range(3):
    gw, gt = torch.randn(4, 3), torch.randn(())
    out[f'gw{s}'], out[f'gt{s}'] = gw, gt
    w.grad, t.grad = gw.clone(), gt.clone()
    for g in opt.param_groups: g['lr'] = [1e-3, 5e-4, 2e-4][s]
    opt.step()
    out[f'w{s + 1}'], out[f't{s + 1}'] = w.detach().clone(), t.detach().clone()
save_file(out, sys.argv[1] + '/adamw.safetensors')
)PY";
}  // namespace

TEST_CASE("one AdamW group with betas (0.9, 0.98) and weight decay 1e-2 steps as torch.optim.AdamW",
          "[slow][pretrain]") {
  const auto dir = test::cached_python_fixtures("clcp_torch_adamw", kTorchAdamW);
  if (dir.empty()) {
    WARN("SKIPPED: no Python venv (build/venv)");
    return;
  }
  const auto ref = load_safetensors(dir / "adamw.safetensors");
  auto w = ref.at("w0").clone().requires_grad_(true);
  auto t = ref.at("t0").clone().requires_grad_(true);
  torch::optim::AdamW opt({w, t},
                          torch::optim::AdamWOptions(1e-3).betas({0.9, 0.98}).eps(1e-8).weight_decay(1e-2));
  const double lrs[] = {1e-3, 5e-4, 2e-4};
  for (int s = 0; s < 3; ++s) {
    w.mutable_grad() = ref.at("gw" + std::to_string(s)).clone();
    t.mutable_grad() = ref.at("gt" + std::to_string(s)).clone();
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lrs[s]);
    opt.step();
    const auto& want_w = ref.at("w" + std::to_string(s + 1));
    const double dw = (w.detach() - want_w).abs().max().item<double>();
    const double dt = (t.detach() - ref.at("t" + std::to_string(s + 1))).abs().item<double>();
    INFO("step " << s + 1 << ": max |Δw| " << dw << ", |Δt| " << dt);
    // float32 rounding of the two implementations' update order (lerp vs mul+add): within a few ulps
    CHECK(dw <= 4 * std::numeric_limits<float>::epsilon() * want_w.abs().max().item<double>());
    CHECK(dt <= 4 * std::numeric_limits<float>::epsilon());
  }
}
