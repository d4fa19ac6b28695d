#include "models/precision.hpp"
#include "suite/pretrain/methods/clcp/clcp_method.hpp"

#include <chrono>
#include <cmath>

#include "models/clcp/info_nce.hpp"
#include "suite/core/error.hpp"
#include "suite/pretrain/distributed.hpp"
#include "suite/pretrain/retrieval.hpp"

namespace clcp {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace method_clcp {
namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

}  // namespace
}  // namespace method_clcp
using method_clcp::grad_norm;
using method_clcp::since;

ClcpMethod::ClcpMethod(ClcpModel model, PairSource train, PairSource val, ClcpMethodOptions options)
    : model_(std::move(model)), train_(std::move(train)), val_(std::move(val)), o_(std::move(options)) {
  if (o_.lidar_mode != "trainable" && o_.lidar_mode != "frozen")
    fail("lidar mode \"{}\": expected \"trainable\" or \"frozen\"", o_.lidar_mode);
  if (o_.lidar_bn != "train" && o_.lidar_bn != "eval")
    fail("lidar_bn \"{}\": expected \"train\" or \"eval\"", o_.lidar_bn);
  if (train_.batches < 1 || !train_.batch)
    fail("pretrain: the train split has fewer pairs than one batch (drop_last would train on nothing); use a smaller "
         "--scale or batch, or more data");
  if (val_.batches < 1 || !val_.batch)
    fail("pretrain: the val split has fewer pairs than one batch (drop_last); raise data.val_ratio or lower the batch "
         "size");
}

void ClcpMethod::bind(const MethodContext& ctx) {
  ctx_ = ctx;
  const int world = ctx.comm->world();
  if (world > 1) {
    negatives_per_query(ctx.batch_size, world, o_.negatives);  // checks the setting
    if (o_.negatives == "local" && ctx.batch_size / world < 2)
      fail("pretrain: batch size {} over {} ranks leaves 1 pair per rank, so local negatives have none; use fewer "
           "ranks or --negatives global",
           ctx.batch_size, world);
  }
}

MethodParameters ClcpMethod::parameters() {
  const bool frozen = o_.lidar_mode == "frozen";
  model_->point_cloud_encoder->backbone_frozen = frozen;
  const torch::Tensor temperature = model_->temperature_param();
  MethodParameters out;
  image_params_.clear();
  lidar_params_.clear();
  for (auto& p : model_->named_parameters(true)) {
    const std::string& k = p.key();
    const bool backbone = k.rfind("point_cloud_encoder.model.", 0) == 0;
    p.value().requires_grad_(!(frozen && backbone));
    if (frozen && backbone) continue;
    out.named.emplace_back(k, p.value());
    (o_.temperature == "clip" && p.value().is_same(temperature) ? out.no_decay : out.decay).push_back(p.value());
    if (k.rfind("image_encoder.", 0) == 0) image_params_.push_back(p.value());
    if (k.rfind("point_cloud_encoder.", 0) == 0) lidar_params_.push_back(p.value());
  }
  return out;
}

void ClcpMethod::set_training(bool training) {
  model_->train(training);
  if (o_.lidar_mode == "frozen" && o_.lidar_bn == "eval") model_->point_cloud_encoder->backbone->eval();
}

torch::Tensor ClcpMethod::train_loss(int64_t epoch, int64_t index, const StepKeys& keys) {
  dist::Comm& comm = *ctx_.comm;
  const int64_t rows = ctx_.batch_size / comm.world();
  auto t = Clock::now();
  PairBatch b = train_.batch(epoch, index);
  t_data_ += since(t);
  if (b.images.size(0) != rows || static_cast<int64_t>(b.points.size()) != rows)
    fail("pretrain: batch {} of epoch {} holds {} images and {} clouds, expected {} of each", index, epoch,
         b.images.size(0), b.points.size(), rows);
  LidarTowerImpl& lidar = *model_->point_cloud_encoder;
  lidar.projection->set_dropout_key(DropPathKey{keys.seed, keys.key()});
  t = Clock::now();
  const auto zi = model_->image_encoder->forward(b.images.to(ctx_.device));
  t_image_ += since(t);
  t = Clock::now();
  std::vector<torch::Tensor> pts;
  for (auto& p : b.points) pts.push_back(p.to(ctx_.device));
  torch::Tensor zl;
  {
    AutocastDisabled fp32(ctx_.device.type());  // the lidar tower stays fp32 under a bf16 protocol (recorded)
    zl = lidar.forward(pts);
  }
  t_lidar_ += since(t);
  t_voxelize_ += lidar.last_timing.voxelize_s;
  t_maps_ += lidar.last_timing.maps_s;
  t_network_ += lidar.last_timing.network_s;
  t = Clock::now();
  const torch::Tensor scale = logit_scale(model_->temperature_param(), o_.temperature);
  auto loss = comm.world() > 1 ? rank_contrastive_loss(comm, zi, zl, scale, o_.negatives) : info_nce(zi, zl, scale);
  t_loss_ += since(t);
  return loss;
}

void ClcpMethod::after_backward() {
  gn_image_ += grad_norm(image_params_);
  gn_lidar_ += grad_norm(lidar_params_);
}

void ClcpMethod::after_optimizer_step() {
  torch::Tensor temperature = model_->temperature_param();
  clamp_temperature(temperature, o_.temperature);
}

json ClcpMethod::step_record() const {
  const torch::Tensor temperature = model_->temperature_param();
  return {{"temperature", temperature.item<double>()}, {"tau", effective_tau(temperature, o_.temperature)}};
}

json ClcpMethod::validate(int64_t epoch) {
  const torch::Tensor temperature = model_->temperature_param();
  LidarTowerImpl& lidar = *model_->point_cloud_encoder;
  double val_sum = 0;
  std::vector<torch::Tensor> vi, vl;
  for (int64_t i = 0; i < val_.batches; ++i) {
    PairBatch b = val_.batch(epoch, i);
    std::vector<torch::Tensor> pts;
    for (auto& p : b.points) pts.push_back(p.to(ctx_.device));
    const auto zi = model_->image_encoder->forward(b.images.to(ctx_.device));
    const auto zl = lidar.forward(pts);
    val_sum += info_nce(zi, zl, logit_scale(temperature, o_.temperature)).item<double>();
    vi.push_back(zi.cpu());
    vl.push_back(zl.cpu());
  }
  const RetrievalMetrics ret = retrieval_metrics(torch::cat(vi), torch::cat(vl), o_.retrieval_ks);
  const double scale = logit_scale(temperature.detach().to(torch::kDouble), o_.temperature).item<double>();
  const int64_t B = ctx_.batch_size;
  return {{"val_loss", val_sum / static_cast<double>(val_.batches)},
          {"chance_loss", std::log(static_cast<double>(B))},
          {"temperature", temperature.item<double>()},
          {"tau", 1.0 / scale},
          {"loss_floor", info_nce_floor(scale, B)},
          {"retrieval", ret.to_json()}};
}

json ClcpMethod::epoch_record(int64_t steps) {
  const auto n = static_cast<double>(steps);
  json r{{"grad_norm", {{"image", gn_image_ / n}, {"lidar", gn_lidar_ / n}}},
         {"speed",
          {{"data_s", t_data_},
           {"image_forward_s", t_image_},
           {"lidar_forward_s", t_lidar_},
           {"lidar_voxelize_s", t_voxelize_},
           {"lidar_kernel_maps_s", t_maps_},
           {"lidar_network_s", t_network_},
           {"loss_s", t_loss_}}}};
  const int world = ctx_.comm->world();
  if (world > 1) {  // the train loss's own chance level: ln(negatives per query + 1)
    const int64_t negatives = negatives_per_query(ctx_.batch_size, world, o_.negatives);
    r["negatives_per_query"] = negatives;
    r["train_chance_loss"] = std::log(static_cast<double>(negatives + 1));
  }
  gn_image_ = gn_lidar_ = 0;
  t_data_ = t_image_ = t_lidar_ = t_loss_ = t_voxelize_ = t_maps_ = t_network_ = 0;
  return r;
}

}  // namespace clcp
