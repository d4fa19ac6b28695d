// The pretraining learning-rate schedule of the thesis (clcp_reference.md §1.8), stepped once per epoch with PyTorch's
// own semantics: SequentialLR([LinearLR(start_factor = warmup_start_lr / lr, total_iters = warmup_epochs),
// CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)], milestones = [warmup_epochs]), or the cosine scheduler alone
// when warmup_epochs = 0. The value is simulated step by step exactly as torch.optim.lr_scheduler computes it
// (LinearLR's chainable multiplicative update, the cosine restart's closed form from T_cur / T_i, SequentialLR's
// step(0) at the milestone), so it equals PyTorch's get_last_lr() bit for bit, not only a closed form.
// Epochs are 0-based, as the thesis's checkpoint names: the optimised run gives e0 1e-6, e1 2.008e-4, … e11 1.55e-4,
// e19 4.77e-5, e35 1.95e-5, e67 1.24e-5 (cycle ends at e7, 11, 19, 35, 67).
#pragma once
#include <cstdint>
#include <vector>

namespace clcp {

struct EpochScheduleSpec {
  double lr = 1e-3;               ///< base lr (AdamW's lr, PyTorch's initial_lr)
  int64_t warmup_epochs = 5;      ///< LinearLR total_iters; 0 = no warmup
  double warmup_start_lr = 1e-6;  ///< lr of epoch 0 with warmup (absolute)
  int64_t t_0 = 1, t_mult = 2;
  double eta_min = 1e-5;
};

/// The lr used during each epoch 0..epochs−1. Throws UserError for t_0 < 1, t_mult < 1, lr ≤ 0 or epochs < 0.
std::vector<double> epoch_learning_rates(const EpochScheduleSpec& spec, int64_t epochs);

/// Whether epoch e (0-based) is the last epoch of a cosine cycle (its lr is a local minimum): the thesis's
/// "epochs 11, 19, 35, 67".
bool is_cycle_end(const EpochScheduleSpec& spec, int64_t epoch);

}  // namespace clcp
