// Poly learning-rate decay, as mmengine PolyLR (by_epoch=False, begin 0, end max_iters) used by the thesis
// finetuning recipe (clcp_reference.md §3.2, mmseg_reference.md §8).
#pragma once
#include <cstdint>

namespace clcp {

/// Learning rate used by (0-based) iteration `iter` of a `max_iters`-iteration run.
///
/// mmengine's chained PolyLR multiplies (lr − eta_min) by (1 − 1/(total − t + 1))^power after every iteration, with
/// total = max_iters − 1; its closed form, computed here directly, is
///     lr_t = eta_min + (base_lr − eta_min) · (1 − t/total)^power,   t clamped to [0, total].
/// So iteration 0 uses base_lr and iteration max_iters − 1 (the last one) uses eta_min. (mmseg 0.x divided by
/// max_iters instead; we follow 1.x.) max_iters ≤ 1 returns base_lr. Throws UserError if max_iters < 1 or iter < 0.
double poly_lr(int64_t iter, int64_t max_iters, double base_lr, double eta_min, double power);

}  // namespace clcp
