// Evaluation of one model on a protocol's eval splits (kept apart from run_cell.cpp so the train and eval stages'
// headers never meet in one translation unit).
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "suite/cells/run.hpp"
#include "suite/core/fault.hpp"
#include "suite/core/signals.hpp"
#include "suite/data/sample_io.hpp"
#include "suite/eval/baseline.hpp"
#include "suite/eval/panel.hpp"
#include "suite/eval/evaluate.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/train/progress.hpp"

namespace clcp::cells {
using nlohmann::json;

namespace {
double eval_seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

json evaluate_model(Segmenter& model, const Protocol& p, const RunData& data, const Bundle& b, torch::Device device,
                    json& eval_speed) {
  model->eval();
  torch::NoGradGuard no_grad;
  const LogitsFn logits_fn = [&](const torch::Tensor& windows) { return model->forward(windows); };
  EvalOptions eo;
  eo.scale_w = static_cast<int>(p.inference.resize_scale[0]);
  eo.scale_h = static_cast<int>(p.inference.resize_scale[1]);
  eo.slide.crop_h = p.inference.crop[0];
  eo.slide.crop_w = p.inference.crop[1];
  eo.slide.stride_h = p.inference.stride[0];
  eo.slide.stride_w = p.inference.stride[1];
  eo.slide.batch_windows = p.inference.batch_windows;
  for (int c = 0; c < 3; ++c) {
    eo.mean[c] = static_cast<float>(p.pipeline.mean[c]);
    eo.std[c] = static_cast<float>(p.pipeline.std[c]);
  }
  eo.device = device;
  eval_speed = json::object();
  auto evaluate = [&](const Split& split, const std::string& name) {
    ProgressLine line("eval " + name, static_cast<int64_t>(split.records.size()));
    const auto e0 = std::chrono::steady_clock::now();
    // The qualitative panel's images (chosen from their ids alone) keep image, label and prediction in the bundle.
    const auto panel = panel_records(split, panel_per_group(split));
    const std::set<size_t> panel_set(panel.begin(), panel.end());
    const PredictionFn keep_panel = [&](size_t i, const LoadedSample& sample, const torch::Tensor& pred) {
      if (!panel_set.count(i)) return;
      const torch::Tensor p = pred.contiguous();
      const cv::Mat pred_mat(static_cast<int>(p.size(0)), static_cast<int>(p.size(1)), CV_8UC1, p.data_ptr());
      write_panel_files(panel_files(b.dir(), name, split.records[i].id), sample.image, sample.label, pred_mat);
    };
    auto ev = evaluate_split(
        logits_fn, split, [&](size_t i) { return load_sample(split.records[i]); }, eo,
        [&](size_t done, size_t total) {
          fault_point(fmt::format("eval:{}:{}", name, done));  // test-only (fault.hpp)
          // SIGINT/SIGTERM during evaluation: stop after this image; the rerun evaluates again from the checkpoint.
          if (stop_requested())
            throw Interrupted(fmt::format("{}: evaluation interrupted after {} of {} images; run the same command "
                                          "again to evaluate it again (training is kept)",
                                          b.dir().filename().string(), done, total),
                              stop_signal());
          const double rate = done / std::max(eval_seconds_since(e0), 1e-9);
          line.update(static_cast<int64_t>(done), {}, rate, (total - done) / std::max(rate, 1e-9));
        },
        keep_panel);
    line.finish();
    eval_speed[name] = {{"images", split.records.size()},
                        {"wall_s", eval_seconds_since(e0)},
                        {"images_per_s", split.records.size() / std::max(eval_seconds_since(e0), 1e-9)}};
    write_evidence_jsonl(b.evidence_path(name), ev);
    return ev;
  };
  const auto source_ev = evaluate(data.source_eval, "cityscapes_" + p.source_eval_split);
  const auto target_ev = evaluate(data.target, "acdc_" + p.target_split);
  json metrics = summarise(source_ev, target_ev);
  metrics["source"]["best_constant_class_mIoU"] = best_constant_class_miou(source_ev);
  return metrics;
}

}  // namespace clcp::cells
