// The supervised positive control (DESIGN.md "the supervised positive control"): the ViT-S/16 trained with labels on
// data disjoint from every evaluation split — the A2D2 front-centre camera frames with their semantic labels
// (suite/data/a2d2_labels.hpp: A2D2's classes mapped onto the 19 Cityscapes trainIds) — standing in for
// "ImageNet-supervised" where no ImageNet weights can be had. Model: supervised_model.hpp (encoder + a linear
// classifier per patch token, logits upsampled to the crop); loss: cross-entropy, ignore 255, mean over the pixels
// not ignored; data: labelled_frames.hpp on A2D2's train/val split (the frames every A2D2 method reads).
//   step_record   {"pixel_accuracy"} of the step's batch (this rank's rows)
//   validate      {"val_loss", "chance_loss" = ln(classes), "pixel_accuracy", "majority_share" (the largest class's
//                 share of the val pixels: the accuracy of always guessing it), "miou" (mean IoU over the classes
//                 with a label or a prediction in val), "classes_present" (classes with a val label), "diagnostic":
//                 {"pixel accuracy", value, chance = majority_share}}
//   epoch_record  {"grad_norm": {"image", "head"}, "train_pixel_accuracy" (mean over the epoch's steps)} + speed
//                 {data_s, forward_s, loss_s}
// Init names: supervised-b<B>@ep<NN>. The protocol's method_config keys (all required, unknown keys are errors):
//   crop_scale [lo, hi], crop_ratio [lo, hi], flip_p.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <regex>

#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "suite/core/error.hpp"
#include "suite/data/labels.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/methods/supervised/labelled_frames.hpp"
#include "suite/pretrain/methods/supervised/supervised_model.hpp"
#include "suite/protocol/json_reader.hpp"

namespace clcp::method_supervised {  // each method's internals in a namespace of its own (unity batches)
namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kClasses = 19;  // Cityscapes trainIds: what the finetune and evaluation use

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

LabelledViewOptions parse_config(const PretrainProtocol& p) {
  const std::string where = p.file.string();
  StrictObject c(p.method_config, where, "method_config");
  LabelledViewOptions v;
  const auto scale = c.numbers("crop_scale", 2), ratio = c.numbers("crop_ratio", 2);
  v.crop_scale = {scale[0], scale[1]};
  v.crop_ratio = {ratio[0], ratio[1]};
  v.flip_p = c.number("flip_p");
  c.finish();
  v.out_size = static_cast<int>(p.image_size);
  if (!(v.crop_scale[0] > 0 && v.crop_scale[0] <= v.crop_scale[1] && v.crop_scale[1] <= 1))
    fail("{}: key 'method_config.crop_scale' must be [lo, hi] with 0 < lo <= hi <= 1 (shares of the frame's area); "
         "fix the value", where);
  if (!(v.crop_ratio[0] > 0 && v.crop_ratio[0] <= v.crop_ratio[1]))
    fail("{}: key 'method_config.crop_ratio' must be [lo, hi] with 0 < lo <= hi (aspect w/h); fix the value", where);
  if (!(v.flip_p >= 0 && v.flip_p <= 1)) fail("{}: key 'method_config.flip_p' must be in [0, 1]; fix the value", where);
  if (p.image_size % 16 != 0)
    fail("{}: key 'data.image_size' {} must be a multiple of the ViT's patch size 16; fix the value", where,
         p.image_size);
  return v;
}

double grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

class SupervisedMethod final : public PretrainMethod {
 public:
  SupervisedMethod(SupervisedModel model, std::shared_ptr<LabelledFrameLoader> train,
                   std::shared_ptr<LabelledFrameLoader> val, int64_t train_batches, int64_t val_batches)
      : model_(std::move(model)),
        train_(std::move(train)),
        val_(std::move(val)),
        train_batches_(train_batches),
        val_batches_(val_batches) {}

  torch::nn::Module& model() override { return *model_; }
  std::string image_encoder_prefix() const override { return "encoder."; }
  std::string sample_unit() const override { return "images"; }
  void bind(const MethodContext& ctx) override { ctx_ = ctx; }
  MethodParameters parameters() override {
    // timm's weight-decay rule (optim param_groups_weight_decay + the ViT's no_weight_decay): biases, norms and the
    // 1-d tokens/embeddings (ndim <= 1, pos_embed, cls_token) without weight decay.
    MethodParameters out;
    encoder_params_.clear();
    head_params_.clear();
    for (auto& p : model_->named_parameters(true)) {
      const std::string& name = p.key();
      out.named.emplace_back(name, p.value());
      const bool no_decay = p.value().dim() <= 1 || name.find("pos_embed") != std::string::npos ||
                            name.find("cls_token") != std::string::npos;
      (no_decay ? out.no_decay : out.decay).push_back(p.value());
      (name.rfind("head.", 0) == 0 ? head_params_ : encoder_params_).push_back(p.value());
    }
    return out;
  }
  int64_t train_batches() const override { return train_batches_; }
  int64_t val_batches() const override { return val_batches_; }
  void set_training(bool training) override { model_->train(training); }

  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys&) override {
    auto t = Clock::now();
    const LabelledBatch b = train_->batch(static_cast<uint64_t>(epoch), index);
    t_data_ += seconds_since(t);
    t = Clock::now();
    const auto labels = b.labels.to(ctx_.device);
    const auto logits = model_->forward(b.images.to(ctx_.device));
    t_forward_ += seconds_since(t);
    t = Clock::now();
    const auto loss = segmentation_loss(logits, labels);
    {
      torch::NoGradGuard ng;
      const auto cm = confusion_counts(logits.detach(), labels).cpu();
      const double total = static_cast<double>(cm.sum().item<int64_t>());
      step_acc_ = total > 0 ? static_cast<double>(cm.diagonal().sum().item<int64_t>()) / total : 0.0;
      acc_sum_ += step_acc_;
    }
    t_loss_ += seconds_since(t);
    return loss;
  }
  void after_backward() override {
    gn_encoder_ += grad_norm(encoder_params_);
    gn_head_ += grad_norm(head_params_);
  }
  json step_record() const override { return {{"pixel_accuracy", step_acc_}}; }

  json validate(int64_t epoch) override {
    double loss_sum = 0;
    torch::Tensor cm = torch::zeros({kClasses, kClasses}, torch::kInt64);
    for (int64_t i = 0; i < val_batches_; ++i) {
      const LabelledBatch b = val_->batch(static_cast<uint64_t>(epoch), i);
      const auto logits = model_->forward(b.images.to(ctx_.device)).cpu();
      namespace F = torch::nn::functional;
      loss_sum += F::cross_entropy(logits, b.labels, F::CrossEntropyFuncOptions().ignore_index(255).reduction(torch::kSum))
                      .item<double>();
      cm += confusion_counts(logits, b.labels);
    }
    const auto gt = cm.sum(1), pred = cm.sum(0), tp = cm.diagonal();
    const double total = static_cast<double>(gt.sum().item<int64_t>());
    const double correct = static_cast<double>(tp.sum().item<int64_t>());
    double iou_sum = 0;
    int64_t iou_n = 0, present = 0;
    for (int64_t k = 0; k < kClasses; ++k) {
      const auto g = gt[k].item<int64_t>(), pr = pred[k].item<int64_t>(), t = tp[k].item<int64_t>();
      present += g > 0;
      if (g + pr - t > 0) {
        iou_sum += static_cast<double>(t) / static_cast<double>(g + pr - t);
        ++iou_n;
      }
    }
    const double acc = total > 0 ? correct / total : 0.0;
    const double majority = total > 0 ? static_cast<double>(gt.max().item<int64_t>()) / total : 0.0;
    return {{"val_loss", total > 0 ? loss_sum / total : 0.0},
            {"chance_loss", std::log(static_cast<double>(kClasses))},
            {"pixel_accuracy", acc},
            {"majority_share", majority},
            {"miou", iou_n > 0 ? iou_sum / static_cast<double>(iou_n) : 0.0},
            {"classes_present", present},
            {"val_pixels", static_cast<int64_t>(total)},
            {"diagnostic", {{"name", "pixel accuracy"}, {"value", acc}, {"chance", majority}}}};
  }
  json epoch_record(int64_t steps) override {
    const double n = static_cast<double>(std::max<int64_t>(steps, 1));
    json r{{"grad_norm", {{"image", gn_encoder_ / n}, {"head", gn_head_ / n}}},
           {"train_pixel_accuracy", acc_sum_ / n},
           {"speed", {{"data_s", t_data_}, {"forward_s", t_forward_}, {"loss_s", t_loss_}}}};
    gn_encoder_ = gn_head_ = acc_sum_ = t_data_ = t_forward_ = t_loss_ = 0;
    return r;
  }

 private:
  SupervisedModel model_;
  std::shared_ptr<LabelledFrameLoader> train_, val_;
  int64_t train_batches_, val_batches_;
  MethodContext ctx_;
  std::vector<torch::Tensor> encoder_params_, head_params_;
  double step_acc_ = 0, acc_sum_ = 0, gn_encoder_ = 0, gn_head_ = 0, t_data_ = 0, t_forward_ = 0, t_loss_ = 0;
};

std::unique_ptr<PretrainMethod> build(const MethodBuild& in) {
  const PretrainProtocol& p = *in.protocol;
  const LabelledViewOptions views = parse_config(p);
  if (!in.data->a2d2)
    fail("{}: the supervised method trains on A2D2's labelled camera frames; data.dataset \"{}\" has no labels — use "
         "\"a2d2\"", p.file.string(), p.dataset);
  const A2D2Dataset& d = *in.data->a2d2;
  LabelledSplit train_split = labelled_split(a2d2_split(d, "train"));
  LabelledSplit val_split = labelled_split(a2d2_split(d, "val"));
  auto decoder = std::make_shared<const A2D2LabelDecoder>(find_a2d2_class_list(d.root));
  SupervisedModel model(p.image_size, kClasses);
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
  auto train = std::make_shared<LabelledFrameLoader>(std::move(train_split), decoder, views, mean, sd, PairMode::kTrain,
                                                     in.seed, p.batch_size, PairRows{in.rank * rows, rows});
  auto val = std::make_shared<LabelledFrameLoader>(std::move(val_split), decoder, views, mean, sd, PairMode::kVal,
                                                   in.seed, p.batch_size);
  auto limited = [](int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; };
  const int64_t tb = limited(train->batches_per_epoch(), p.limit_train_batches);
  const int64_t vb = limited(val->batches_per_epoch(), p.limit_val_batches);
  return std::make_unique<SupervisedMethod>(std::move(model), std::move(train), std::move(val), tb, vb);
}

std::optional<MethodVariant> parse_variant(const std::string& variant) {
  static const std::regex re(R"(^b([1-9]\d*)$)");
  std::smatch m;
  if (!std::regex_match(variant, m, re)) return std::nullopt;
  MethodVariant v;
  v.batch_size = std::stoll(m[1].str());
  return v;
}

std::string headline(const json& last) {
  return fmt::format("val loss {:.4f} (chance {:.4f}), pixel accuracy {:.3f} (majority class {:.3f}), mIoU {:.3f} "
                     "over {} classes",
                     last["val_loss"].get<double>(), last["chance_loss"].get<double>(),
                     last["pixel_accuracy"].get<double>(), last["majority_share"].get<double>(),
                     last["miou"].get<double>(), last["classes_present"].get<int64_t>());
}

const MethodRegistration registration{MethodInfo{
    "supervised",
    "positive control: the ViT-S/16 trained with labels (A2D2's segmentation labels mapped to the 19 Cityscapes "
    "classes; a linear classifier per patch token, cross-entropy), standing in for ImageNet-supervised weights",
    {"image"},
    "labelled images: A2D2 camera frames + segmentation labels",
    "supervised_a2d2",
    build,
    [](const PretrainProtocol& p) { return fmt::format("b{}", p.batch_size); },
    parse_variant,
    headline,
    "b<B>"}};

}  // namespace
}  // namespace clcp::method_supervised
