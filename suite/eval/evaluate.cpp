#include "suite/eval/evaluate.hpp"

#include "suite/core/error.hpp"
#include "suite/eval/image_evidence.hpp"

namespace clcp {

std::vector<ImageEvidence> evaluate_split(const LogitsFn& logits_fn, const Split& split, const SampleLoader& load,
                                          const EvalOptions& opts, const EvalProgressFn& progress,
                                          const PredictionFn& on_prediction) {
  torch::NoGradGuard no_grad;
  std::vector<ImageEvidence> out;
  out.reserve(split.records.size());
  const size_t total = split.records.size();
  for (size_t i = 0; i < total; ++i) {
    const ImageRecord& rec = split.records[i];
    const LoadedSample sample = load(i);
    if (sample.label.type() != CV_8UC1)
      fail("{}: label must be an 8-bit single-channel trainId image; check the label file", rec.label.string());
    if (sample.label.size() != sample.image.size())
      fail("{}: label is {}x{} but its image is {}x{}; the label must match the image size", rec.label.string(),
           sample.label.cols, sample.label.rows, sample.image.cols, sample.image.rows);
    const auto pred = predict_labels(logits_fn, sample.image, opts.scale_w, opts.scale_h, opts.slide, opts.mean,
                                     opts.std, opts.device);
    const cv::Mat label = sample.label.isContinuous() ? sample.label : sample.label.clone();
    const auto label_t = torch::from_blob(label.data, {label.rows, label.cols}, torch::kUInt8);
    out.push_back(image_evidence(pred, label_t, rec.id, split.dataset, rec.condition));
    if (on_prediction) on_prediction(i, sample, pred);
    if (progress) progress(i + 1, total);
  }
  return out;
}

}  // namespace clcp
