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
#include "suite/dist/grad_sync.hpp"
#include "suite/pretrain/distributed.hpp"
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
  const int world = c.comm ? c.comm->world() : 1;
  if (world > 1) {
    negatives_per_query(c.batch_size, world, c.negatives);  // checks the setting
    if (c.batch_size % world != 0 || c.batch_size / world < 1)
      fail("pretrain: batch size {} does not split into {} equal per-rank parts; use a number of ranks that divides "
           "train.batch_size",
           c.batch_size, world);
    if (c.negatives == "local" && c.batch_size / world < 2)
      fail("pretrain: batch size {} over {} ranks leaves 1 pair per rank, so local negatives have none; use fewer "
           "ranks or --negatives global",
           c.batch_size, world);
  }
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

// Data parallel resume: ranks other than 0 take rank 0's AdamW state (zeros, then broadcast), so every rank's
// optimiser continues identically.
void broadcast_adamw(dist::Comm& comm, torch::optim::AdamW& opt,
                     const std::vector<std::pair<std::string, torch::Tensor>>& named, int64_t step) {
  const auto n = static_cast<int64_t>(named.size());
  auto has = torch::zeros({n}, torch::kInt64);
  for (int64_t k = 0; k < n; ++k)
    has[k] = opt.state().count(named[static_cast<size_t>(k)].second.unsafeGetTensorImpl()) ? 1 : 0;
  has = has.to(comm.device());
  comm.broadcast(has, 0);
  has = has.cpu();
  std::vector<torch::Tensor> moments;
  for (int64_t k = 0; k < n; ++k) {
    if (has[k].item<int64_t>() == 0) continue;
    const torch::Tensor& p = named[static_cast<size_t>(k)].second;
    auto& slot = opt.state()[p.unsafeGetTensorImpl()];
    if (!slot) {
      auto st = std::make_unique<torch::optim::AdamWParamState>();
      st->step(step);
      st->exp_avg(torch::zeros_like(p));
      st->exp_avg_sq(torch::zeros_like(p));
      slot = std::move(st);
    }
    auto& st = static_cast<torch::optim::AdamWParamState&>(*slot);
    moments.push_back(st.exp_avg());
    moments.push_back(st.exp_avg_sq());
  }
  dist::broadcast_tensors(comm, moments, 0);
}

}  // namespace

PretrainResult pretrain(ClcpModelImpl& model, const PairSource& train, const PairSource& val,
                        const PretrainConfig& cfg, const fs::path& cell_dir,
                        const std::function<void(const PretrainProgress&)>& progress) {
  validate(cfg, train, val);
  const auto t_start = Clock::now();
  const fs::path ckpt_dir = cell_dir / "checkpoints";
  const fs::path step_log = cell_dir / "train_log.jsonl", epoch_log = cell_dir / "pretrain_log.jsonl";
  dist::SingleComm single;
  dist::Comm& comm = cfg.comm ? *cfg.comm : single;
  const int world = comm.world(), rank = comm.rank();
  const bool dp = world > 1;
  const bool writer = rank == 0;  // only rank 0 reads checkpoints and writes files
  if (writer) ensure_writable_dir(cell_dir);
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
  if (const auto latest = writer ? find_latest_pretrain_checkpoint(ckpt_dir) : std::nullopt) {
    const auto ck = load_pretrain_checkpoint(*latest);
    if (ck.seed != cfg.seed || ck.fingerprint != cfg.fingerprint)
      fail("{}: written with seed {} and protocol fingerprint {}, this run has seed {} and {}; use the same settings "
           "or delete {} to restart", latest->weights.string(), ck.seed, ck.fingerprint, cfg.seed, cfg.fingerprint,
           ckpt_dir.string());
    if (cfg.threads > 0 && ck.threads > 0 && ck.threads != cfg.threads)
      fail("{}: written with --threads {}, this run uses {}; results are bit-identical only for the same count: "
           "resume with --threads {}, or add --force to restart the cell",
           latest->weights.string(), ck.threads, cfg.threads, ck.threads);
    if (latest->epoch >= cfg.epochs)
      fail("{}: epoch {} is beyond the protocol's {} epochs; delete {} to restart", latest->weights.string(),
           latest->epoch, cfg.epochs, ckpt_dir.string());
    load_state_dict(model, ck.model, /*strict=*/true);
    restore_adamw(opt, trainable, ck.optimizer, ck.step, latest->state);
    start = latest->epoch + 1;
    step = ck.step;
    result.resumed_from = latest->epoch;
  }
  if (writer) {
    truncate_log(step_log, start - 1);
    truncate_log(epoch_log, start - 1);
  }
  if (dp) {  // rank 0's start (fresh or resumed), then its parameters, buffers and optimiser state on every rank
    auto where = torch::tensor({start, step, result.resumed_from}, torch::kInt64).to(comm.device());
    comm.broadcast(where, 0);
    where = where.cpu();
    start = where[0].item<int64_t>();
    step = where[1].item<int64_t>();
    result.resumed_from = where[2].item<int64_t>();
    dist::broadcast_module(comm, model);
    if (start > 0) broadcast_adamw(comm, opt, trainable, step);
  }
  result.epochs_done = start;
  if (start >= cfg.epochs) {
    result.completed = true;
    return result;
  }

  const int64_t B = cfg.batch_size;
  const int64_t rows = B / world;  // this rank's pairs per step
  std::vector<torch::Tensor> trainable_params;
  for (const auto& [k, p] : trainable) trainable_params.push_back(p);
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
      if (dp) fault_point(fmt::format("pretrain:rank{}:step{}", rank, step));  // the failing-rank tests
      PairBatch b = train.batch(epoch, i);
      t_data += since(t);
      if (b.images.size(0) != rows || static_cast<int64_t>(b.points.size()) != rows)
        fail("pretrain: batch {} of epoch {} holds {} images and {} clouds, expected {} of each", i, epoch,
             b.images.size(0), b.points.size(), rows);
      const auto key_step = static_cast<uint64_t>(step) * static_cast<uint64_t>(world) + static_cast<uint64_t>(rank);
      lidar.projection->set_dropout_key(DropPathKey{cfg.seed, key_step});
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
      const auto loss = dp ? rank_contrastive_loss(comm, zi, zl, logit_scale(temperature, form), cfg.negatives)
                           : info_nce(zi, zl, logit_scale(temperature, form));
      double loss_v = fault_nan("pretrain:loss") ? std::nan("") : loss.item<double>();
      bool stop_all = false;
      if (dp) {  // the step's loss (mean of the rank terms) and the stop flag, agreed on by every rank
        std::vector<torch::Tensor> agreed{
            torch::tensor({loss_v, cfg.stop && cfg.stop->load() ? 1.0 : 0.0}, torch::kFloat64).to(comm.device())};
        comm.allreduce_sum(agreed);
        const auto host = agreed[0].cpu();
        loss_v = host[0].item<double>() / world;
        stop_all = host[1].item<double>() > 0;
      }
      t_loss += since(t);
      if (!std::isfinite(loss_v)) {
        const auto good = find_latest_pretrain_checkpoint(ckpt_dir);
        fail("epoch {} step {}: loss is NaN/Inf; last good epoch checkpoint kept at {}; lower the lr or check the "
             "data", epoch, i, good ? good->weights.string() : std::string("(none written yet)"));
      }
      t = Clock::now();
      loss.backward();
      dist::average_gradients(comm, trainable_params);
      t_backward += since(t);
      gn_image += grad_norm(image_params);
      gn_lidar += grad_norm(lidar_params);
      t = Clock::now();
      opt.step();
      clamp_temperature(temperature, form);
      dist::broadcast_buffers(comm, model);  // BatchNorm running statistics: rank 0's
      t_step += since(t);
      ++step;
      loss_sum += loss_v;
      pairs_this_process += rows;
      if (writer)
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
      if (progress) progress({epoch, cfg.epochs, i + 1, train.batches, loss_v, lr, pps, remaining * rows / pps});
      if (dp ? stop_all : cfg.stop && cfg.stop->load()) {
        result.pairs_per_s = pps;
        return result;  // the epoch restarts from its beginning on resume
      }
    }
    train_wall += since(epoch_t0);
    if (!writer) {  // validation, checkpoints and logs are rank 0's
      result.epochs_done = epoch + 1;
      result.pairs_per_s = static_cast<double>(pairs_this_process) / std::max(train_wall, 1e-9);
      continue;
    }

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
    save_pretrain_checkpoint(ckpt_dir, epoch, cfg.seed, step, cfg.fingerprint, sd, opt_state, cfg.keep_epochs,
                             cfg.threads);
    export_image_encoder(cell_dir, epoch, sd, cfg.cell_id, cfg.fingerprint, cfg.keep_epochs);
    const double epoch_wall = since(epoch_t0);
    json record{{"epoch", epoch},
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
                       {"val_s", since(val_t0)}}}};
    if (dp) {  // the train loss's own chance level: ln(negatives per query + 1)
      const int64_t negatives = negatives_per_query(B, world, cfg.negatives);
      record["negatives_per_query"] = negatives;
      record["train_chance_loss"] = std::log(static_cast<double>(negatives + 1));
    }
    append_line(epoch_log, record.dump());
    result.epochs_done = epoch + 1;
    result.pairs_per_s = static_cast<double>(pairs_this_process) / std::max(train_wall, 1e-9);
  }
  if (dp) comm.barrier();  // the other ranks leave once rank 0 has written the last epoch
  result.completed = true;
  return result;
}

}  // namespace clcp
