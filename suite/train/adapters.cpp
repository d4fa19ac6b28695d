#include "suite/train/adapters.hpp"

namespace clcp {

TrainableModel segmenter_trainable(Segmenter model, uint64_t seed) {
  TrainableModel t;
  t.module = model.get();
  t.forward = [model](const torch::Tensor& images) mutable { return model->forward(images); };
  t.before_step = [model, seed](uint64_t step) mutable { model->set_drop_path_key(seed, step); };
  t.backbone_prefix = "backbone.";
  return t;
}

BatchFn loader_batches(TrainLoader& loader) {
  return [&loader](uint64_t t) {
    Batch b = loader.batch(t);
    return TrainBatch{std::move(b.images), std::move(b.labels)};
  };
}

}  // namespace clcp
