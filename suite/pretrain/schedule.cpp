#include "suite/pretrain/schedule.hpp"

#include <cmath>

#include "suite/core/error.hpp"

namespace clcp {

namespace {

// torch.optim.lr_scheduler.CosineAnnealingWarmRestarts state.
struct Cosine {
  const EpochScheduleSpec& s;
  int64_t t_i, t_cur;
  double lr() const {
    return s.eta_min + (s.lr - s.eta_min) * (1 + std::cos(M_PI * static_cast<double>(t_cur) / static_cast<double>(t_i))) / 2;
  }
  void step0() {  // step(epoch=0)
    t_i = s.t_0;
    t_cur = 0;
  }
  void step() {  // step() with epoch=None
    t_cur += 1;
    if (t_cur >= t_i) {
      t_cur -= t_i;
      t_i *= s.t_mult;
    }
  }
};

void validate(const EpochScheduleSpec& s, int64_t epochs) {
  if (!(s.lr > 0) || s.t_0 < 1 || s.t_mult < 1 || s.warmup_epochs < 0 || epochs < 0 || !(s.warmup_start_lr > 0))
    fail("schedule: expected lr > 0, warmup_start_lr > 0, warmup_epochs >= 0, T_0 >= 1, T_mult >= 1 (got lr {}, "
         "warmup_start_lr {}, warmup_epochs {}, T_0 {}, T_mult {}); fix the protocol's schedule", s.lr,
         s.warmup_start_lr, s.warmup_epochs, s.t_0, s.t_mult);
}

}  // namespace

std::vector<double> epoch_learning_rates(const EpochScheduleSpec& s, int64_t epochs) {
  validate(s, epochs);
  std::vector<double> out;
  Cosine cos{s, s.t_0, 0};
  if (s.warmup_epochs == 0) {
    for (int64_t e = 0; e < epochs; ++e) {
      if (e > 0) cos.step();
      out.push_back(cos.lr());
    }
    return out;
  }
  // LinearLR: epoch 0 = lr·start_factor, then lr ← lr·(1 + (end − start) / (total·start + (e − 1)(end − start))).
  const double start = s.warmup_start_lr / s.lr, end = 1.0;
  const auto total = static_cast<double>(s.warmup_epochs);
  double group_lr = s.lr * start;
  for (int64_t e = 0; e < epochs; ++e) {
    if (e > 0 && e < s.warmup_epochs) {
      group_lr = group_lr * (1.0 + (end - start) / (total * start + static_cast<double>(e - 1) * (end - start)));
    } else if (e == s.warmup_epochs) {
      cos.step0();  // SequentialLR at its milestone
      group_lr = cos.lr();
    } else if (e > s.warmup_epochs) {
      cos.step();
      group_lr = cos.lr();
    }
    out.push_back(group_lr);
  }
  return out;
}

bool is_cycle_end(const EpochScheduleSpec& s, int64_t epoch) {
  if (epoch < s.warmup_epochs) return false;
  int64_t t_i = s.t_0, start = s.warmup_epochs;
  while (start + t_i <= epoch) {
    start += t_i;
    t_i *= s.t_mult;
  }
  return epoch == start + t_i - 1;
}

}  // namespace clcp
