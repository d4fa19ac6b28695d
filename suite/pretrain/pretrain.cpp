#include "suite/pretrain/pretrain.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fault.hpp"
#include "suite/core/fsio.hpp"
#include "suite/dist/grad_sync.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"

namespace clcp {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void validate(const PretrainConfig& c, int world) {
  if (c.epochs < 1 || c.batch_size < 2)
    fail("pretrain: epochs {} and batch_size {}: expected epochs >= 1 and batch_size >= 2", c.epochs, c.batch_size);
  if (world > 1 && (c.batch_size % world != 0 || c.batch_size / world < 1))
    fail("pretrain: batch size {} does not split into {} equal per-rank parts; use a number of ranks that divides "
         "train.batch_size",
         c.batch_size, world);
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
    fail("{}: holds AdamW state for parameters this run does not train (other method settings, e.g. another --lidar mode?); use the same settings "
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

PretrainResult pretrain(PretrainMethod& method, const PretrainConfig& cfg, const fs::path& cell_dir,
                        const std::function<void(const PretrainProgress&)>& progress) {
  const auto t_start = Clock::now();
  const fs::path ckpt_dir = cell_dir / "checkpoints";
  const fs::path step_log = cell_dir / "train_log.jsonl", epoch_log = cell_dir / "pretrain_log.jsonl";
  dist::SingleComm single;
  dist::Comm& comm = cfg.comm ? *cfg.comm : single;
  const int world = comm.world(), rank = comm.rank();
  validate(cfg, world);
  const bool dp = world > 1;
  const bool writer = rank == 0;  // only rank 0 reads checkpoints and writes files
  torch::nn::Module& model = method.model();
  model.to(cfg.device);
  method.bind(MethodContext{cfg.device, &comm, cfg.batch_size, cfg.seed});
  if (method.train_batches() < 1 || method.val_batches() < 1)
    fail("pretrain: {} train and {} val batches of {}: the method needs at least one of each (drop_last); use a "
         "smaller --scale or batch, or more data", method.train_batches(), method.val_batches(), cfg.batch_size);
  if (writer) ensure_writable_dir(cell_dir);
  const std::vector<double> lrs = epoch_learning_rates(cfg.schedule, cfg.epochs);

  // --- parameters: the method's two groups (its weight decay, and none) ----------------------------------------
  const MethodParameters params = method.parameters();
  const auto& trainable = params.named;
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(cfg.schedule.lr)
                                                            .betas({cfg.beta1, cfg.beta2})
                                                            .eps(cfg.eps)
                                                            .weight_decay(wd)
                                                            .amsgrad(false));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(params.decay, options(cfg.weight_decay));
  if (!params.no_decay.empty()) groups.emplace_back(params.no_decay, options(0.0));
  if (!params.fixed_lr.empty()) groups.emplace_back(params.fixed_lr, options(cfg.weight_decay));
  const size_t scheduled_groups = groups.size() - (params.fixed_lr.empty() ? 0 : 1);  // the fixed-lr group is last
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

  const int64_t train_batches = method.train_batches();
  const int64_t rows = cfg.batch_size / world;  // this rank's samples per step
  std::vector<torch::Tensor> trainable_params;
  for (const auto& [k, p] : trainable) trainable_params.push_back(p);
  int64_t samples_this_process = 0;
  double train_wall = 0;
  for (int64_t epoch = start; epoch < cfg.epochs; ++epoch) {
    const double lr = lrs[epoch];
    for (size_t g = 0; g < scheduled_groups; ++g)
      static_cast<torch::optim::AdamWOptions&>(opt.param_groups()[g].options()).lr(lr);
    method.set_training(true);
    double loss_sum = 0, t_backward = 0, t_step = 0;
    const auto epoch_t0 = Clock::now();
    for (int64_t i = 0; i < train_batches; ++i) {
      if (dp) fault_point(fmt::format("pretrain:rank{}:step{}", rank, step));  // the failing-rank tests
      opt.zero_grad();
      torch::Tensor loss;
      {
        AutocastScope amp(cfg.precision, cfg.device.type());  // fp32 unless the protocol asks for bf16
        loss = method.train_loss(epoch, i, StepKeys{cfg.seed, step, world, rank}).to(torch::kFloat32);
      }
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
      if (!std::isfinite(loss_v)) {
        const auto good = find_latest_pretrain_checkpoint(ckpt_dir);
        fail("epoch {} step {}: loss is NaN/Inf; last good epoch checkpoint kept at {}; lower the lr or check the "
             "data", epoch, i, good ? good->weights.string() : std::string("(none written yet)"));
      }
      auto t = Clock::now();
      loss.backward();
      dist::average_gradients(comm, trainable_params);
      t_backward += since(t);
      method.after_backward();
      t = Clock::now();
      opt.step();
      method.after_optimizer_step();
      dist::broadcast_buffers(comm, model);  // BatchNorm running statistics: rank 0's
      t_step += since(t);
      ++step;
      loss_sum += loss_v;
      samples_this_process += rows;
      if (writer) {
        json line{{"epoch", epoch}, {"step", step}, {"loss", loss_v}, {"lr", lr}};
        line.update(method.step_record());
        line["time_s"] = since(t_start);
        append_line(step_log, line.dump());
      }
      const double wall = train_wall + since(epoch_t0);
      const double sps = static_cast<double>(samples_this_process) / std::max(wall, 1e-9);
      const int64_t remaining = (cfg.epochs - epoch - 1) * train_batches + (train_batches - i - 1);
      if (progress) progress({epoch, cfg.epochs, i + 1, train_batches, loss_v, lr, sps, remaining * rows / sps});
      if (dp ? stop_all : cfg.stop && cfg.stop->load()) {
        result.samples_per_s = sps;
        return result;  // the epoch restarts from its beginning on resume
      }
    }
    train_wall += since(epoch_t0);
    json train_side = method.epoch_record(train_batches);
    if (!writer) {  // validation, checkpoints and logs are rank 0's
      result.epochs_done = epoch + 1;
      result.samples_per_s = static_cast<double>(samples_this_process) / std::max(train_wall, 1e-9);
      continue;
    }

    // --- validation: the method's own, eval mode, no grad ------------------------------------------------------
    const auto val_t0 = Clock::now();
    method.set_training(false);
    json val;
    {
      torch::NoGradGuard ng;
      val = method.validate(epoch);
    }
    if (val.contains("collapse")) {  // a method's collapse monitor: stop, keeping the last good epoch
      const auto good = find_latest_pretrain_checkpoint(ckpt_dir);
      fail("epoch {}: {}; last good epoch checkpoint kept at {}; lower the lr or change the method's settings", epoch,
           val["collapse"].get<std::string>(), good ? good->weights.string() : std::string("(none written yet)"));
    }

    // --- checkpoint, export, log ------------------------------------------------------------------------------
    const auto sd = state_dict(model);
    int64_t saved_step = 0;
    const TensorDict opt_state = adamw_state(opt, trainable, saved_step);
    save_pretrain_checkpoint(ckpt_dir, epoch, cfg.seed, step, cfg.fingerprint, sd, opt_state, cfg.keep_epochs,
                             cfg.threads);
    export_image_encoder(cell_dir, epoch, sd, method.image_encoder_prefix(), cfg.cell_id, cfg.fingerprint,
                         cfg.keep_epochs);
    const double epoch_wall = since(epoch_t0);
    json speed = train_side.contains("speed") ? train_side["speed"] : json::object();
    train_side.erase("speed");
    speed[method.sample_unit() + "_per_s"] =
        static_cast<double>(train_batches * cfg.batch_size) / std::max(epoch_wall, 1e-9);
    speed["time_s"] = since(t_start);
    speed["epoch_s"] = epoch_wall;
    speed["backward_s"] = t_backward;
    speed["optimizer_s"] = t_step;
    speed["val_s"] = since(val_t0);
    json record{{"epoch", epoch}, {"lr", lr}, {"steps", step}, {"train_loss", loss_sum / static_cast<double>(train_batches)}};
    record.update(val);
    record.update(train_side);
    record["speed"] = speed;
    append_line(epoch_log, record.dump());
    result.epochs_done = epoch + 1;
    result.samples_per_s = static_cast<double>(samples_this_process) / std::max(train_wall, 1e-9);
  }
  if (dp) comm.barrier();  // the other ranks leave once rank 0 has written the last epoch
  result.completed = true;
  return result;
}

}  // namespace clcp
