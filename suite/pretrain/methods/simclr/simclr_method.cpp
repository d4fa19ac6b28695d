// SimCLR (Chen et al. 2020; methods_reference.md §3.1, §3.3) as a pretraining method: two views of each camera frame
// (suite/data/two_view.hpp, the SimCLR recipe), both through one ViT-S/16 + projector in one forward (one BatchNorm
// batch of 2b rows, as the SimCLR paper's implementation; lightly's examples forward each view separately), NT-Xent
// at temperature τ (nt_xent.hpp). Data parallel: "local" negatives (each rank's 2b views, lightly's default) or
// "global" (keys gathered with gradient: the one-process loss).
//   step_record   {} (τ is fixed)
//   validate      {"val_loss", "chance_loss" = ln(2B − 1), "positive_pair_accuracy" (mean over val batches; chance
//                 1/(2B − 1) in "positive_pair_chance"), "z_std" (normalised_std over all val projections),
//                 "z_std_uniform" = 1/√out}; a z_std below collapse_std_floor/√out stops the run (collapse).
//   epoch_record  {"grad_norm": {"image"}} + speed {data_s, forward_s, loss_s}
// Init names: simclr-b<B>@ep<NN>. The protocol's method_config keys (all required, unknown keys are errors):
//   projector {hidden, out}, temperature, collapse_std_floor, views {crop_scale, crop_ratio, flip_p, jitter_p,
//   brightness, contrast, saturation, hue, grayscale_p, blur_p, blur_sigma, blur_kernel}.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <regex>

#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "suite/core/error.hpp"
#include "suite/data/view_loader.hpp"
#include "suite/dist/gather.hpp"
#include "suite/pretrain/methods/image_views.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/methods/simclr/nt_xent.hpp"
#include "suite/pretrain/methods/simclr/simclr_model.hpp"
#include "suite/protocol/json_reader.hpp"

namespace clcp::method_simclr {  // each method's internals in a namespace of its own (unity batches)
namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct SimclrConfig {
  int64_t hidden = 0, out = 0;
  double temperature = 0.5, collapse_std_floor = 0.1;
  ViewOptions views;
};

SimclrConfig parse_config(const PretrainProtocol& p) {
  const std::string where = p.file.string();
  StrictObject c(p.method_config, where, "method_config");
  SimclrConfig s;
  {
    auto pr = c.object("projector");
    s.hidden = pr.integer("hidden");
    s.out = pr.integer("out");
    pr.finish();
  }
  s.temperature = c.number("temperature");
  s.collapse_std_floor = c.number("collapse_std_floor");
  s.views = read_view_options(c, static_cast<int>(p.image_size));
  c.finish();
  if (s.hidden < 1 || s.out < 1) fail("{}: key 'method_config.projector' widths must be >= 1; fix the value", where);
  if (!(s.temperature > 0)) fail("{}: key 'method_config.temperature' must be > 0; fix the value", where);
  if (s.collapse_std_floor < 0 || s.collapse_std_floor >= 1)
    fail("{}: key 'method_config.collapse_std_floor' must be in [0, 1) (a fraction of 1/sqrt(out)); fix the value",
         where);
  return s;
}

double grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

class SimclrMethod final : public PretrainMethod {
 public:
  SimclrMethod(SimclrConfig cfg, SimclrModel model, std::shared_ptr<ViewLoader> train, std::shared_ptr<ViewLoader> val,
               int64_t train_batches, int64_t val_batches, std::string negatives)
      : cfg_(std::move(cfg)),
        model_(std::move(model)),
        train_(std::move(train)),
        val_(std::move(val)),
        train_batches_(train_batches),
        val_batches_(val_batches),
        negatives_(std::move(negatives)) {}

  torch::nn::Module& model() override { return *model_; }
  std::string image_encoder_prefix() const override { return "encoder."; }
  std::string sample_unit() const override { return "images"; }
  void bind(const MethodContext& ctx) override {
    ctx_ = ctx;
    if (negatives_ != "local" && negatives_ != "global")
      fail("negatives \"{}\": expected \"local\" (each rank's views) or \"global\" (gathered from every rank)",
           negatives_);
  }
  MethodParameters parameters() override {
    MethodParameters out;
    params_.clear();
    for (auto& p : model_->named_parameters(true)) {
      out.named.emplace_back(p.key(), p.value());
      out.decay.push_back(p.value());
      params_.push_back(p.value());
    }
    return out;
  }
  int64_t train_batches() const override { return train_batches_; }
  int64_t val_batches() const override { return val_batches_; }
  void set_training(bool training) override { model_->train(training); }

  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys&) override {
    auto t = Clock::now();
    const ViewBatch b = train_->batch(static_cast<uint64_t>(epoch), index);
    t_data_ += since(t);
    t = Clock::now();
    const int64_t rows = b.view_a.size(0);
    const auto z = model_->forward(torch::cat({b.view_a, b.view_b}).to(ctx_.device));
    t_forward_ += since(t);
    t = Clock::now();
    const auto za = z.narrow(0, 0, rows), zb = z.narrow(0, rows, rows);
    dist::Comm& comm = *ctx_.comm;
    torch::Tensor loss;
    if (comm.world() > 1 && negatives_ == "global")
      loss = nt_xent_rows(za, zb, dist::gather_with_grad(comm, za), dist::gather_with_grad(comm, zb),
                          cfg_.temperature, comm.rank() * rows);
    else
      loss = nt_xent(za, zb, cfg_.temperature);
    t_loss_ += since(t);
    return loss;
  }
  void after_backward() override { gn_ += grad_norm(params_); }

  json validate(int64_t epoch) override {
    double loss = 0, acc = 0;
    std::vector<torch::Tensor> za_all, zb_all;
    for (int64_t i = 0; i < val_batches_; ++i) {
      const ViewBatch b = val_->batch(static_cast<uint64_t>(epoch), i);
      const int64_t rows = b.view_a.size(0);
      const auto z = model_->forward(torch::cat({b.view_a, b.view_b}).to(ctx_.device)).cpu();
      const auto za = z.narrow(0, 0, rows), zb = z.narrow(0, rows, rows);
      loss += nt_xent(za, zb, cfg_.temperature).item<double>();
      acc += positive_pair_accuracy(za, zb);
      za_all.push_back(za);
      zb_all.push_back(zb);
    }
    const auto n = static_cast<double>(val_batches_);
    const double B = static_cast<double>(ctx_.batch_size);
    const double z_std = normalised_std(torch::cat(za_all), torch::cat(zb_all));
    const double uniform = 1.0 / std::sqrt(static_cast<double>(cfg_.out));
    json r{{"val_loss", loss / n},
           {"chance_loss", std::log(2 * B - 1)},
           {"positive_pair_accuracy", acc / n},
           {"positive_pair_chance", 1.0 / (2 * B - 1)},
           {"z_std", z_std},
           {"z_std_uniform", uniform},
           {"diagnostic",  // the report's column for this method
            {{"name", "positive-pair accuracy"}, {"value", acc / n}, {"chance", 1.0 / (2 * B - 1)}}}};
    if (z_std < cfg_.collapse_std_floor * uniform)
      r["collapse"] = fmt::format("the projections collapsed: per-dimension std of the normalised val projections "
                                  "{:.3g} < collapse_std_floor {} x 1/sqrt({}) = {:.3g}",
                                  z_std, cfg_.collapse_std_floor, cfg_.out, cfg_.collapse_std_floor * uniform);
    return r;
  }
  json epoch_record(int64_t steps) override {
    json r{{"grad_norm", {{"image", gn_ / static_cast<double>(steps)}}},
           {"speed", {{"data_s", t_data_}, {"forward_s", t_forward_}, {"loss_s", t_loss_}}}};
    gn_ = t_data_ = t_forward_ = t_loss_ = 0;
    return r;
  }

 private:
  SimclrConfig cfg_;
  SimclrModel model_;
  std::shared_ptr<ViewLoader> train_, val_;
  int64_t train_batches_, val_batches_;
  std::string negatives_;
  MethodContext ctx_;
  std::vector<torch::Tensor> params_;
  double gn_ = 0, t_data_ = 0, t_forward_ = 0, t_loss_ = 0;
};

std::unique_ptr<PretrainMethod> build(const MethodBuild& in) {
  const PretrainProtocol& p = *in.protocol;
  SimclrConfig cfg = parse_config(p);
  SimclrModel model(cfg.hidden, cfg.out);
  model->init_weights(in.seed);
  if (in.image_init != "random") {
    const auto path = resolve_init(in.image_init, default_weights_lookup()).path;
    const auto w = import_vit_weights(path, p.image_size / 16);
    load_vit_checked(*model->encoder, w.mapped, path.string());
    spdlog::info("weights: image encoder from {} ({} layout)", path.string(), w.mapped.layout);
  }
  std::array<float, 3> mean{}, sd{};
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<float>(p.mean[c]);
    sd[c] = static_cast<float>(p.std[c]);
  }
  const int64_t rows = p.batch_size / in.world;
  // the A2D2 camera frames (undistorted), or a folder of images as they are
  auto train = std::make_shared<ViewLoader>(image_frames(in, "train"), cfg.views, mean, sd, PairMode::kTrain, in.seed,
                                            p.batch_size, PairRows{in.rank * rows, rows});
  auto val = std::make_shared<ViewLoader>(image_frames(in, "val"), cfg.views, mean, sd, PairMode::kVal, in.seed, p.batch_size);
  auto limited = [](int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; };
  const int64_t tb = limited(train->batches_per_epoch(), p.limit_train_batches);
  const int64_t vb = limited(val->batches_per_epoch(), p.limit_val_batches);
  return std::make_unique<SimclrMethod>(std::move(cfg), std::move(model), std::move(train), std::move(val), tb, vb,
                                        in.negatives);
}

std::optional<MethodVariant> parse_variant(const std::string& variant) {
  static const std::regex re(R"(^b(\d+)$)");
  std::smatch m;
  if (!std::regex_match(variant, m, re)) return std::nullopt;
  MethodVariant v;
  v.batch_size = std::stoll(m[1].str());
  return v;
}

std::string headline(const json& last) {
  return fmt::format("val loss {:.4f} (chance {:.4f}), positive-pair accuracy {:.3f} (chance {:.3f}), z_std {:.4f} "
                     "(uniform {:.4f})",
                     last["val_loss"].get<double>(), last["chance_loss"].get<double>(),
                     last["positive_pair_accuracy"].get<double>(), last["positive_pair_chance"].get<double>(),
                     last["z_std"].get<double>(), last["z_std_uniform"].get<double>());
}

const MethodRegistration registration{MethodInfo{
    "simclr",
    "SimCLR: NT-Xent between two augmented views of each camera frame, ViT-S/16 CLS token through a BN-MLP projector "
    "(Chen et al. 2020)",
    {"image"},
    "images",
    "simclr_a2d2",
    build,
    [](const PretrainProtocol& p) { return fmt::format("b{}", p.batch_size); },
    parse_variant,
    headline,
    "b<B>",
    [](const PretrainProtocol& p) { parse_config(p); }}};

}  // namespace
}  // namespace clcp::method_simclr
