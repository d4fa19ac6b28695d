// The pretraining schedule against PyTorch's own SequentialLR(LinearLR, CosineAnnealingWarmRestarts) and the values
// of clcp_reference.md §1.8.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/python_oracle.hpp"
#include "suite/pretrain/schedule.hpp"

using namespace clcp;

namespace {
// Writes the per-epoch lr of torch.optim.lr_scheduler, stepped once per epoch as Lightning does, one per line.
const char* const kTorchSchedule = R"PY(
import sys, warnings, torch
warnings.filterwarnings('ignore')
out = sys.argv[1]
def lrs(lr, warmup, start, t0, tmult, eta_min, epochs):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=lr)
    cos = None
    if warmup > 0:
        w = torch.optim.lr_scheduler.LinearLR(opt, start_factor=start / lr, total_iters=warmup)
        cos = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=tmult, eta_min=eta_min)
        s = torch.optim.lr_scheduler.SequentialLR(opt, [w, cos], milestones=[warmup])
    else:
        s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=tmult, eta_min=eta_min)
    v = []
    for e in range(epochs):
        v.append(opt.param_groups[0]['lr'])
        opt.step(); s.step()
    return v
with open(out + '/optimised.txt', 'w') as f:
    f.write('\n'.join(repr(x) for x in lrs(1e-3, 5, 1e-6, 1, 2, 1e-5, 70)))
with open(out + '/naive.txt', 'w') as f:
    f.write('\n'.join(repr(x) for x in lrs(1e-4, 0, 1e-4, 10, 1, 1e-6, 100)))
with open(out + '/smoke.txt', 'w') as f:
    f.write('\n'.join(repr(x) for x in lrs(1e-3, 1, 1e-6, 1, 2, 1e-5, 8)))
)PY";

std::vector<double> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<double> v;
  for (std::string line; std::getline(in, line);) v.push_back(std::stod(line));
  return v;
}
}  // namespace

TEST_CASE("the thesis's optimised schedule has the lrs of clcp_reference §1.8 at the checkpoint epochs", "[pretrain]") {
  const auto lr = epoch_learning_rates({1e-3, 5, 1e-6, 1, 2, 1e-5}, 69);
  CHECK(lr[0] == Approx(1e-6).epsilon(1e-12));
  CHECK(lr[1] == Approx(2.008e-4).epsilon(1e-9));
  CHECK(lr[4] == Approx(8.002e-4).epsilon(1e-9));
  CHECK(lr[5] == Approx(1e-3).epsilon(1e-12));
  CHECK(lr[6] == Approx(1e-3).epsilon(1e-12));
  CHECK(lr[7] == Approx(5.05e-4).epsilon(1e-9));
  CHECK(lr[11] == Approx(1.55e-4).epsilon(2e-3));
  CHECK(lr[19] == Approx(4.77e-5).epsilon(2e-3));
  CHECK(lr[35] == Approx(1.95e-5).epsilon(2e-3));
  CHECK(lr[67] == Approx(1.24e-5).epsilon(2e-3));
  CHECK(lr[68] == Approx(1e-3).epsilon(1e-12));  // the restart right after the thesis stopped
  for (const int64_t e : {5, 7, 11, 19, 35, 67}) CHECK(is_cycle_end({1e-3, 5, 1e-6, 1, 2, 1e-5}, e));
  for (const int64_t e : {4, 6, 8, 12, 34, 36, 66, 68}) CHECK_FALSE(is_cycle_end({1e-3, 5, 1e-6, 1, 2, 1e-5}, e));
}

TEST_CASE("every epoch's lr equals PyTorch's SequentialLR(LinearLR, CosineAnnealingWarmRestarts) bit for bit",
          "[pretrain]") {
  const auto dir = test::cached_python_fixtures("clcp_torch_schedule", kTorchSchedule);
  if (dir.empty()) {
    WARN("SKIPPED: no Python venv (build/venv) for PyTorch's schedulers");
    return;
  }
  const auto check = [](const std::vector<double>& ours, const std::vector<double>& torch_lrs, const char* what) {
    REQUIRE(ours.size() == torch_lrs.size());
    for (size_t e = 0; e < ours.size(); ++e) {
      INFO(what << " epoch " << e << ": ours " << ours[e] << ", torch " << torch_lrs[e]);
      CHECK(ours[e] == torch_lrs[e]);
    }
  };
  check(epoch_learning_rates({1e-3, 5, 1e-6, 1, 2, 1e-5}, 70), read_lines(dir / "optimised.txt"), "optimised");
  check(epoch_learning_rates({1e-4, 0, 1e-4, 10, 1, 1e-6}, 100), read_lines(dir / "naive.txt"), "naive");
  check(epoch_learning_rates({1e-3, 1, 1e-6, 1, 2, 1e-5}, 8), read_lines(dir / "smoke.txt"), "smoke");
}
