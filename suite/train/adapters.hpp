// Glue between the finetune loop's small interfaces and the real model and loader.
#pragma once
#include <cstdint>

#include "models/segmenter.hpp"
#include "suite/data/loader.hpp"
#include "suite/train/finetune.hpp"

namespace clcp {

/// The Segmenter as the loop sees it: forward → logits [B,K,h,w]; before_step(t) → set_drop_path_key(seed, t), so
/// drop_path masks are keyed by (seed, iteration) and a resumed run draws the same masks; backbone prefix "backbone.".
/// `model` must outlive the returned value (it shares the module holder).
TrainableModel segmenter_trainable(Segmenter model, uint64_t seed);

/// Batch t of the loader (TrainLoader::batch(t)); `loader` must outlive the returned function.
BatchFn loader_batches(TrainLoader& loader);

}  // namespace clcp
