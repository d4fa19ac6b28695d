#include "suite/train/finetune.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fault.hpp"
#include "suite/core/fsio.hpp"
#include "models/state_dict.hpp"
#include "suite/train/loss.hpp"
#include "suite/train/poly_lr.hpp"

namespace clcp {
namespace fs = std::filesystem;

TrainProgressFn progress_printer(ProgressLine& line) {
  return [&line](const TrainProgress& p) {
    line.update(p.iter, {{"loss", fmt::format("{:.3f}", p.loss)}, {"lr", fmt::format("{:.1e}", p.lr)}},
                p.images_per_s, p.eta_s);
  };
}

namespace {

void validate(const FinetuneConfig& cfg, const TrainableModel& model) {
  if (model.module == nullptr || !model.forward) fail("finetune: a module and a forward function are required");
  if (cfg.max_iters < 1) fail("max_iters = {}: expected ≥ 1; set the schedule length", cfg.max_iters);
  if (cfg.batch_size < 1) fail("batch_size = {}: expected ≥ 1", cfg.batch_size);
  if (!(cfg.lr > 0) || cfg.eta_min < 0 || cfg.momentum < 0 || cfg.weight_decay < 0)
    fail("optimizer: expected lr > 0 and eta_min, momentum, weight_decay ≥ 0 (got lr {}, eta_min {}, momentum {}, "
         "weight_decay {}); fix the protocol's optimizer block", cfg.lr, cfg.eta_min, cfg.momentum, cfg.weight_decay);
  if (cfg.mode != "full" && cfg.mode != "frozen")
    fail("mode \"{}\": expected \"full\" or \"frozen\"; fix the finetune mode", cfg.mode);
}

bool due(int64_t done, int64_t interval, int64_t max_iters) {
  return done == max_iters || (interval > 0 && done % interval == 0);
}

// Keeps only the train_log.jsonl lines of iterations ≤ last_iter (drops a torn last line too).
void truncate_log(const fs::path& log, int64_t last_iter) {
  if (!fs::exists(log)) return;
  std::istringstream in(read_file(log));
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.at("iter").get<int64_t>() <= last_iter) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // torn or foreign line: not part of the resumed history
    }
  }
  write_atomic(log, kept);
}

}  // namespace

FinetuneResult finetune(const TrainableModel& model, const BatchFn& next_batch, const FinetuneConfig& cfg,
                        const fs::path& cell_dir, const TrainProgressFn& progress) {
  validate(cfg, model);
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  const fs::path ckpt_dir = cell_dir / "checkpoints";
  const fs::path log_path = cell_dir / "train_log.jsonl";
  ensure_writable_dir(cell_dir);

  torch::nn::Module& module = *model.module;
  module.to(cfg.device);
  module.train();
  auto get_state = [&] { return model.state_dict ? model.state_dict() : state_dict(module); };

  // Parameters the optimiser owns. "frozen": the backbone gets requires_grad=false and stays out of the optimiser,
  // as the thesis' frozen_weights=True (clcp_reference.md §3.1).
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  int64_t frozen = 0;
  for (auto& p : module.named_parameters(true)) {
    const bool is_backbone = p.key().rfind(model.backbone_prefix, 0) == 0;
    if (cfg.mode == "frozen" && is_backbone) {
      p.value().requires_grad_(false);
      ++frozen;
    } else {
      p.value().requires_grad_(true);
      trainable.emplace_back(p.key(), p.value());
    }
  }
  if (cfg.mode == "frozen" && frozen == 0)
    fail("mode \"frozen\": no parameter name starts with \"{}\"; the model has no backbone to freeze",
         model.backbone_prefix);
  if (trainable.empty()) fail("finetune: the model has no trainable parameters in mode \"{}\"", cfg.mode);
  std::vector<torch::Tensor> params;
  for (const auto& [_, p] : trainable) params.push_back(p);
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(cfg.lr)
                                    .momentum(cfg.momentum)
                                    .dampening(0.0)
                                    .weight_decay(cfg.weight_decay)
                                    .nesterov(false));

  FinetuneResult result;
  result.last_loss = std::nan("");
  const CheckpointRetention retention{cfg.keep_last, cfg.max_iters};

  // --- resume -------------------------------------------------------------------------------------------------------
  int64_t start = 0;
  if (const auto latest = find_latest_checkpoint(ckpt_dir)) {
    const LoadedCheckpoint ck = load_checkpoint(*latest);
    if (ck.seed != cfg.seed)
      fail("{}: written with seed {}, this run uses seed {}; use the same seed or delete {} to restart",
           latest->weights.string(), ck.seed, cfg.seed, ckpt_dir.string());
    if (cfg.threads > 0 && ck.threads > 0 && ck.threads != cfg.threads)
      fail("{}: written with --threads {}, this run uses {}; results are bit-identical only for the same count: "
           "resume with --threads {}, or add --force to restart the cell",
           latest->weights.string(), ck.threads, cfg.threads, ck.threads);
    if (latest->iteration > cfg.max_iters)
      fail("{}: iteration {} is beyond max_iters {}; delete {} to restart with the shorter schedule",
           latest->weights.string(), latest->iteration, cfg.max_iters, ckpt_dir.string());
    if (model.load_state_dict) {
      model.load_state_dict(ck.model_state);
    } else {
      try {
        load_state_dict(module, ck.model_state, /*strict=*/true);
      } catch (const UserError& e) {
        fail("{}: {}; the checkpoint does not belong to this model — delete {} to restart", latest->weights.string(),
             e.what(), ckpt_dir.string());
      }
    }
    size_t restored = 0;
    for (const auto& [name, p] : trainable) {
      const auto it = ck.momentum.find(name);
      if (it == ck.momentum.end()) continue;  // a parameter that never had a gradient has no buffer
      if (it->second.sizes() != p.sizes())
        fail("{}: momentum of {} has the wrong shape; delete {} to restart", latest->state.string(), name,
             ckpt_dir.string());
      auto st = std::make_unique<torch::optim::SGDParamState>();
      st->momentum_buffer(it->second.to(p.device(), p.scalar_type()).clone());
      sgd.state()[p.unsafeGetTensorImpl()] = std::move(st);
      ++restored;
    }
    if (restored != ck.momentum.size())
      fail("{}: holds momentum for parameters this run does not train (another finetune mode?); use the same mode or "
           "delete {} to restart", latest->state.string(), ckpt_dir.string());
    start = latest->iteration;
    result.resumed_from = start;
    result.last_checkpoint = *latest;
  }
  truncate_log(log_path, start);
  result.iterations_done = start;
  if (start >= cfg.max_iters) {
    result.completed = true;
    return result;
  }

  auto momentum_state = [&] {
    TensorMap m;
    for (const auto& [name, p] : trainable) {
      const auto it = sgd.state().find(p.unsafeGetTensorImpl());
      if (it == sgd.state().end()) continue;
      const auto& st = static_cast<const torch::optim::SGDParamState&>(*it->second);
      if (st.momentum_buffer().defined()) m[name] = st.momentum_buffer();
    }
    return m;
  };

  // --- loop ---------------------------------------------------------------------------------------------------------
  auto last_log_time = Clock::now();
  int64_t last_log_iter = start;
  for (int64_t t = start; t < cfg.max_iters; ++t) {
    const double lr = poly_lr(t, cfg.max_iters, cfg.lr, cfg.eta_min, cfg.power);
    for (auto& group : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);

    TrainBatch batch = next_batch(static_cast<uint64_t>(t));
    const auto images = batch.images.to(cfg.device);
    const auto labels = batch.labels.to(cfg.device);
    if (model.before_step) model.before_step(static_cast<uint64_t>(t));

    sgd.zero_grad();
    torch::Tensor logits;
    {
      AutocastScope amp(cfg.precision, cfg.device.type());
      logits = model.forward(images);
    }
    fault_point("iteration:" + std::to_string(t) + ":forward");  // test-only (fault.hpp)
    const auto loss = seg_cross_entropy(logits.to(torch::kFloat32), labels, cfg.ignore_index);
    const double loss_v = loss.item<double>();
    if (!std::isfinite(loss_v)) {
      const auto good = find_latest_checkpoint(ckpt_dir);
      fail("iteration {}: loss is NaN/Inf; last good checkpoint kept at {}; lower the lr or check the labels", t + 1,
           good ? good->weights.string() : std::string("(none written yet)"));
    }
    loss.backward();
    sgd.step();

    const int64_t done = t + 1;
    result.iterations_done = done;
    result.last_loss = loss_v;
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - t_start).count();
    const double iters_per_s = static_cast<double>(done - start) / std::max(elapsed, 1e-9);
    if (progress)
      progress({done, cfg.max_iters, loss_v, lr, iters_per_s * static_cast<double>(cfg.batch_size),
                static_cast<double>(cfg.max_iters - done) / iters_per_s});

    const bool stop_requested = cfg.stop != nullptr && cfg.stop->load();
    if (due(done, cfg.log_interval, cfg.max_iters)) {
      const double since = std::chrono::duration<double>(now - last_log_time).count();
      nlohmann::json line = {
          {"iter", done},
          {"loss", loss_v},
          {"lr", lr},
          {"acc_seg", pixel_accuracy(logits.detach(), labels, cfg.ignore_index)},
          {"images_per_s", static_cast<double>((done - last_log_iter) * cfg.batch_size) / std::max(since, 1e-9)},
          {"time_s", elapsed}};
      append_line(log_path, line.dump());
      last_log_time = now;
      last_log_iter = done;
    }
    if (due(done, cfg.checkpoint_interval, cfg.max_iters) || stop_requested) {
      torch::NoGradGuard ng;
      result.last_checkpoint =
          save_checkpoint(ckpt_dir, done, cfg.seed, get_state(), momentum_state(), retention, cfg.threads);
    }
    if (stop_requested && done < cfg.max_iters) return result;
  }
  result.completed = true;
  return result;
}

}  // namespace clcp
