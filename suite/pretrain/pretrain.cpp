#include "suite/pretrain/pretrain.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/clcp/info_nce.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fault.hpp"
#include "suite/core/fsio.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "suite/pretrain/retrieval.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void validate(const PretrainConfig& c, const PairSource& train, const PairSource& val) {
  if (c.epochs < 1 || c.batch_size < 2)
    fail("pretrain: epochs {} and batch_size {}: expected epochs >= 1 and batch_size >= 2", c.epochs, c.batch_size);
  if (c.lidar_mode != "trainable" && c.lidar_mode != "frozen")
    fail("lidar mode \"{}\": expected \"trainable\" or \"frozen\"", c.lidar_mode);
  if (c.lidar_bn != "train" && c.lidar_bn != "eval") fail("lidar_bn \"{}\": expected \"train\" or \"eval\"", c.lidar_bn);
  if (train.batches < 1 || !train.batch)
    fail("pretrain: the train split has fewer pairs than one batch of {} (drop_last would train on nothing); use a "
         "smaller --scale or batch, or more data", c.batch_size);
  if (val.batches < 1 || !val.batch)
    fail("pretrain: the val split has fewer pairs than one batch of {} (drop_last); raise data.val_ratio or lower the "
         "batch size", c.batch_size);
}

// Keeps train_log.jsonl / pretrain_log.jsonl lines of epochs ≤ last (a torn last line is dropped too).
void truncate_log(const fs::path& log, int64_t last) {
  if (!fs::exists(log)) return;
  std::istringstream in(read_file(log));
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (json::parse(line).at("epoch").get<int64_t>() <= last) kept += line + "\n";
    } catch (const json::exception&) {
    }
  }
  write_atomic(log, kept);
}

double grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

TensorDict adamw_state(torch::optim::AdamW& opt, const std::vector<std::pair<std::string, torch::Tensor>>& named,
                       int64_t& step) {
  TensorDict out;
  step = 0;
  for (const auto& [name, p] : named) {
    const auto it = opt.state().find(p.unsafeGetTensorImpl());
    if (it == opt.state().end()) continue;
    const auto& st = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    out[name + ".exp_avg"] = st.exp_avg();
    out[name + ".exp_avg_sq"] = st.exp_avg_sq();
    step = st.step();
  }
  return out;
}

void restore_adamw(torch::optim::AdamW& opt, const std::vector<std::pair<std::string, torch::Tensor>>& named,
                   const TensorDict& saved, int64_t step, const fs::path& file) {
  size_t restored = 0;
  for (const auto& [name, p] : named) {
    const auto a = saved.find(name + ".exp_avg"), b = saved.find(name + ".exp_avg_sq");
    if (a == saved.end() || b == saved.end()) continue;
    auto st = std::make_unique<torch::optim::AdamWParamState>();
    st->step(step);
    st->exp_avg(a->second.to(p.device(), p.scalar_type()).clone());
    st->exp_avg_sq(b->second.to(p.device(), p.scalar_type()).clone());
    opt.state()[p.unsafeGetTensorImpl()] = std::move(st);
    restored += 2;
  }
  if (restored != saved.size())
    fail("{}: holds AdamW state for parameters this run does not train (another --lidar mode?); use the same settings "
         "or delete the checkpoints folder to restart", file.string());
}

struct Embeddings {
  torch::Tensor image, lidar;
};

}  // namespace

PretrainResult pretrain(ClcpModelImpl& model, const PairSource& train, const PairSource& val,
                        const PretrainConfig& cfg, const fs::path& cell_dir,
                        const std::function<void(const PretrainProgress&)>& progress) {
  validate(cfg, train, val);
  const auto t_start = Clock::now();
  const fs::path ckpt_dir = cell_dir / "checkpoints";
  const fs::path step_log = cell_dir / "train_log.jsonl", epoch_log = cell_dir / "pretrain_log.jsonl";
  ensure_writable_dir(cell_dir);
  model.to(cfg.device);
  const std::vector<double> lrs = epoch_learning_rates(cfg.schedule, cfg.epochs);
  const std::string form = cfg.temperature;
  torch::Tensor temperature = model.temperature_param();
  LidarTowerImpl& lidar = *model.point_cloud_encoder;

  // --- parameters: frozen lidar out of the optimiser; clip's logit_scale without weight decay -------------------
  const bool frozen = cfg.lidar_mode == "frozen";
  lidar.backbone_frozen = frozen;
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  std::vector<torch::Tensor> decay, no_decay, image_params, lidar_params;
  for (auto& p : model.named_parameters(true)) {
    const std::string& k = p.key();
    const bool backbone = k.rfind("point_cloud_encoder.model.", 0) == 0;
    p.value().requires_grad_(!(frozen && backbone));
    if (frozen && backbone) continue;
    trainable.emplace_back(k, p.value());
    (form == "clip" && p.value().is_same(temperature) ? no_decay : decay).push_back(p.value());
    if (k.rfind("image_encoder.", 0) == 0) image_params.push_back(p.value());
    if (k.rfind("point_cloud_encoder.", 0) == 0) lidar_params.push_back(p.value());
  }
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(cfg.schedule.lr)
                                                            .betas({cfg.beta1, cfg.beta2})
                                                            .eps(cfg.eps)
                                                            .weight_decay(wd)
                                                            .amsgrad(false));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(cfg.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
  torch::optim::AdamW opt(groups, torch::optim::AdamWOptions(cfg.schedule.lr));

  // --- resume ---------------------------------------------------------------------------------------------------
  PretrainResult result;
  int64_t start = 0, step = 0;
  if (const auto latest = find_latest_pretrain_checkpoint(ckpt_dir)) {
    const auto ck = load_pretrain_checkpoint(*latest);
    if (ck.seed != cfg.seed || ck.fingerprint != cfg.fingerprint)
      fail("{}: written with seed {} and protocol fingerprint {}, this run has seed {} and {}; use the same settings "
           "or delete {} to restart", latest->weights.string(), ck.seed, ck.fingerprint, cfg.seed, cfg.fingerprint,
           ckpt_dir.string());
    if (latest->epoch >= cfg.epochs)
      fail("{}: epoch {} is beyond the protocol's {} epochs; delete {} to restart", latest->weights.string(),
           latest->epoch, cfg.epochs, ckpt_dir.string());
    load_state_dict(model, ck.model, /*strict=*/true);
    restore_adamw(opt, trainable, ck.optimizer, ck.step, latest->state);
    start = latest->epoch + 1;
    step = ck.step;
    result.resumed_from = latest->epoch;
  }
  truncate_log(step_log, start - 1);
  truncate_log(epoch_log, start - 1);
  result.epochs_done = start;
  if (start >= cfg.epochs) {
    result.completed = true;
    return result;
  }

  const int64_t B = cfg.batch_size;
  auto set_modes = [&](bool training) {
    model.train(training);
    if (frozen && cfg.lidar_bn == "eval") lidar.backbone->eval();
  };
  int64_t pairs_this_process = 0;
  double train_wall = 0;
  for (int64_t epoch = start; epoch < cfg.epochs; ++epoch) {
    const double lr = lrs[epoch];
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    set_modes(true);
    double loss_sum = 0, gn_image = 0, gn_lidar = 0;
    double t_data = 0, t_image = 0, t_lidar = 0, t_loss = 0, t_backward = 0, t_step = 0;
    double t_voxelize = 0, t_maps = 0, t_network = 0;
    const auto epoch_t0 = Clock::now();
    for (int64_t i = 0; i < train.batches; ++i) {
      auto t = Clock::now();
      PairBatch b = train.batch(epoch, i);
      t_data += since(t);
      if (b.images.size(0) != B || static_cast<int64_t>(b.points.size()) != B)
        fail("pretrain: batch {} of epoch {} holds {} images and {} clouds, expected {} of each", i, epoch,
             b.images.size(0), b.points.size(), B);
      lidar.projection->set_dropout_key(DropPathKey{cfg.seed, static_cast<uint64_t>(step)});
      opt.zero_grad();
      t = Clock::now();
      const auto zi = model.image_encoder->forward(b.images.to(cfg.device));
      t_image += since(t);
      t = Clock::now();
      std::vector<torch::Tensor> pts;
      for (auto& p : b.points) pts.push_back(p.to(cfg.device));
      const auto zl = lidar.forward(pts);
      t_lidar += since(t);
      t_voxelize += lidar.last_timing.voxelize_s;
      t_maps += lidar.last_timing.maps_s;
      t_network += lidar.last_timing.network_s;
      t = Clock::now();
      const auto loss = info_nce(zi, zl, logit_scale(temperature, form));
      const double loss_v = fault_nan("pretrain:loss") ? std::nan("") : loss.item<double>();
      t_loss += since(t);
      if (!std::isfinite(loss_v)) {
        const auto good = find_latest_pretrain_checkpoint(ckpt_dir);
        fail("epoch {} step {}: loss is NaN/Inf; last good epoch checkpoint kept at {}; lower the lr or check the "
             "data", epoch, i, good ? good->weights.string() : std::string("(none written yet)"));
      }
      t = Clock::now();
      loss.backward();
      t_backward += since(t);
      gn_image += grad_norm(image_params);
      gn_lidar += grad_norm(lidar_params);
      t = Clock::now();
      opt.step();
      clamp_temperature(temperature, form);
      t_step += since(t);
      ++step;
      loss_sum += loss_v;
      pairs_this_process += B;
      append_line(step_log, json{{"epoch", epoch},
                                 {"step", step},
                                 {"loss", loss_v},
                                 {"lr", lr},
                                 {"temperature", temperature.item<double>()},
                                 {"tau", effective_tau(temperature, form)},
                                 {"time_s", since(t_start)}}
                                .dump());
      const double wall = train_wall + since(epoch_t0);
      const double pps = static_cast<double>(pairs_this_process) / std::max(wall, 1e-9);
      const int64_t remaining = (cfg.epochs - epoch - 1) * train.batches + (train.batches - i - 1);
      if (progress) progress({epoch, cfg.epochs, i + 1, train.batches, loss_v, lr, pps, remaining * B / pps});
      if (cfg.stop && cfg.stop->load()) {
        result.pairs_per_s = pps;
        return result;  // the epoch restarts from its beginning on resume
      }
    }
    train_wall += since(epoch_t0);

    // --- validation: loss and retrieval, eval mode, fixed crops -----------------------------------------------
    const auto val_t0 = Clock::now();
    set_modes(false);
    double val_sum = 0;
    std::vector<torch::Tensor> vi, vl;
    {
      torch::NoGradGuard ng;
      for (int64_t i = 0; i < val.batches; ++i) {
        PairBatch b = val.batch(epoch, i);
        std::vector<torch::Tensor> pts;
        for (auto& p : b.points) pts.push_back(p.to(cfg.device));
        const auto zi = model.image_encoder->forward(b.images.to(cfg.device));
        const auto zl = lidar.forward(pts);
        val_sum += info_nce(zi, zl, logit_scale(temperature, form)).item<double>();
        vi.push_back(zi.cpu());
        vl.push_back(zl.cpu());
      }
    }
    const RetrievalMetrics ret = retrieval_metrics(torch::cat(vi), torch::cat(vl), cfg.retrieval_ks);
    const double scale = logit_scale(temperature.detach().to(torch::kDouble), form).item<double>();
    const auto n = static_cast<double>(train.batches);

    // --- checkpoint, export, log ------------------------------------------------------------------------------
    const auto sd = state_dict(model);
    int64_t saved_step = 0;
    const TensorDict opt_state = adamw_state(opt, trainable, saved_step);
    save_pretrain_checkpoint(ckpt_dir, epoch, cfg.seed, step, cfg.fingerprint, sd, opt_state, cfg.keep_epochs);
    export_image_encoder(cell_dir, epoch, sd, cfg.cell_id, cfg.fingerprint, cfg.keep_epochs);
    const double epoch_wall = since(epoch_t0);
    append_line(epoch_log,
                json{{"epoch", epoch},
                     {"lr", lr},
                     {"steps", step},
                     {"train_loss", loss_sum / n},
                     {"val_loss", val_sum / static_cast<double>(val.batches)},
                     {"chance_loss", std::log(static_cast<double>(B))},
                     {"temperature", temperature.item<double>()},
                     {"tau", 1.0 / scale},
                     {"loss_floor", info_nce_floor(scale, B)},
                     {"grad_norm", {{"image", gn_image / n}, {"lidar", gn_lidar / n}}},
                     {"retrieval", ret.to_json()},
                     {"speed",
                      {{"pairs_per_s", static_cast<double>(train.batches * B) / std::max(epoch_wall, 1e-9)},
                       {"time_s", since(t_start)},
                       {"epoch_s", epoch_wall},
                       {"data_s", t_data},
                       {"image_forward_s", t_image},
                       {"lidar_forward_s", t_lidar},
                       {"lidar_voxelize_s", t_voxelize},
                       {"lidar_kernel_maps_s", t_maps},
                       {"lidar_network_s", t_network},
                       {"loss_s", t_loss},
                       {"backward_s", t_backward},
                       {"optimizer_s", t_step},
                       {"val_s", since(val_t0)}}}}
                    .dump());
    result.epochs_done = epoch + 1;
    result.pairs_per_s = static_cast<double>(pairs_this_process) / std::max(train_wall, 1e-9);
  }
  result.completed = true;
  return result;
}

}  // namespace clcp
