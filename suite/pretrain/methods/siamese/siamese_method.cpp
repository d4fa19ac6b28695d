// The Siamese family of image-only pretraining (methods_reference.md §3): SimSiam, BYOL and DiSiam(+) as three
// registered methods over one two-view pipeline (suite/data/view_loader.hpp, SimCLR's) and one branch model
// (siamese_model.hpp). The exported encoder is always the online branch's ViT-S/16 ("online.encoder.*").
//   simsiam  one online branch; loss simsiam_loss (FastSiam averaging for views_per_frame M > 2)
//   byol     online branch + EMA target (no predictor, requires_grad false, checkpointed); byol_loss; after every
//            optimizer step k (0-based) ξ ← τ_k ξ + (1 − τ_k) θ with τ_k = cosine_schedule(k, K, start, end), K the
//            run's optimizer steps (epochs × train batches)
//   disiam   online ViT-S/16 branch whose heads output the assistant's width + a wider assistant branch (trained,
//            the stop-gradient target of both terms); disiam_loss; M > 2 is DiSiam+
// All views of a step go through a branch in one forward (BatchNorm over M·b rows, as SimCLR here).
//   step_record   byol {"momentum"}; disiam {"online_term", "assistant_term"}
//   validate      {"val_loss", "chance_loss" (simsiam/disiam 0, byol 4: unrelated vectors), "positive_pair_accuracy"
//                 (online projections, views a/b; chance 1/(2B − 1)), "z_std" (normalised_std of the online
//                 projections of the val views a/b), "z_std_uniform" = 1/√out, "collapse_epochs"}; z_std below
//                 collapse.std_floor/√out for collapse.patience_epochs epochs in a row stops the run (collapse).
//   epoch_record  {"grad_norm": {"online"[, "assistant"]}} + speed {data_s, forward_s, loss_s}
// Init names: <method>-b<B>[-from-<method>-<variant>-ep<N>]@ep<NN> (the second part: chained from that encoder).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <regex>

#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/view_loader.hpp"
#include "suite/pretrain/knn_probe.hpp"
#include "suite/pretrain/methods/image_views.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/methods/siamese/siamese_loss.hpp"
#include "suite/pretrain/methods/siamese/siamese_model.hpp"
#include "suite/pretrain/methods/simclr/nt_xent.hpp"
#include "suite/protocol/json_reader.hpp"

namespace clcp::siamese {
namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

enum class Kind { kSimsiam, kByol, kDisiam };

struct SiameseConfig {
  Kind kind = Kind::kSimsiam;
  std::string projector;  // "simsiam" | "byol"
  int64_t projector_hidden = 0, out = 0, predictor_hidden = 0;
  bool predictor_fixed_lr = false;
  int views_per_frame = 2;
  double std_floor = 0.1;
  int64_t patience = 1;
  double momentum_start = 0.996, momentum_end = 1.0;  // byol
  VitOptions assistant;                               // disiam
  ViewOptions views;
  std::optional<KnnProbeOptions> knn;                 // knn_probe (null: none)
};

Kind kind_of(const std::string& method) {
  if (method == "byol") return Kind::kByol;
  if (method == "disiam") return Kind::kDisiam;
  return Kind::kSimsiam;
}

SiameseConfig parse_config(const PretrainProtocol& p) {
  const std::string where = p.file.string();
  StrictObject c(p.method_config, where, "method_config");
  SiameseConfig s;
  s.kind = kind_of(p.method);
  {
    auto pr = c.object("projector");
    s.projector = pr.string("kind");
    s.projector_hidden = pr.integer("hidden");
    s.out = pr.integer("out");
    pr.finish();
  }
  {
    auto pd = c.object("predictor");
    s.predictor_hidden = pd.integer("hidden");
    s.predictor_fixed_lr = pd.boolean("fixed_lr");
    pd.finish();
  }
  s.views_per_frame = static_cast<int>(c.integer("views_per_frame"));
  {
    auto cl = c.object("collapse");
    s.std_floor = cl.number("std_floor");
    s.patience = cl.integer("patience_epochs");
    cl.finish();
  }
  if (s.kind == Kind::kByol) {
    auto m = c.object("momentum");
    s.momentum_start = m.number("start");
    s.momentum_end = m.number("end");
    m.finish();
  }
  if (s.kind == Kind::kDisiam) {
    auto a = c.object("assistant");
    s.assistant.embed_dim = a.integer("embed_dim");
    s.assistant.depth = a.integer("depth");
    s.assistant.num_heads = a.integer("num_heads");
    a.finish();
  }
  if (c.has("knn_probe") && !c.raw("knn_probe").is_null()) {
    auto k = c.object("knn_probe");
    KnnProbeOptions o;
    o.root = k.string("root");
    o.k = k.integer("k");
    o.temperature = k.number("temperature");
    o.val_ratio = k.number("val_ratio");
    k.finish();
    if (o.k < 1 || !(o.temperature > 0) || !(o.val_ratio > 0 && o.val_ratio <= 0.5))
      fail("{}: key 'method_config.knn_probe' needs k >= 1, temperature > 0 and val_ratio in (0, 0.5]; fix the value",
           where);
    o.image_size = static_cast<int>(p.image_size);
    for (int i = 0; i < 3; ++i) {
      o.mean_rgb[static_cast<size_t>(i)] = static_cast<float>(p.mean[static_cast<size_t>(i)]);
      o.std_rgb[static_cast<size_t>(i)] = static_cast<float>(p.std[static_cast<size_t>(i)]);
    }
    s.knn = o;
  }
  s.views = read_view_options(c, static_cast<int>(p.image_size));
  c.finish();
  s.assistant.img_size = p.image_size;
  if (s.projector != "simsiam" && s.projector != "byol")
    fail("{}: key 'method_config.projector.kind' is \"{}\": expected \"simsiam\" (3 BN layers) or \"byol\" (2 "
         "layers); fix the value", where, s.projector);
  if (s.projector_hidden < 1 || s.out < 1 || s.predictor_hidden < 1)
    fail("{}: keys 'method_config.projector.hidden/out' and 'method_config.predictor.hidden' must be >= 1; fix the "
         "value", where);
  if (s.views_per_frame < 2 || (s.kind == Kind::kByol && s.views_per_frame != 2))
    fail("{}: key 'method_config.views_per_frame' is {}: expected >= 2 ({}); fix the value", where, s.views_per_frame,
         s.kind == Kind::kByol ? "BYOL's loss is defined on 2 views: set 2" : "M > 2 is FastSiam averaging");
  if (s.std_floor < 0 || s.std_floor >= 1 || s.patience < 1)
    fail("{}: key 'method_config.collapse' needs std_floor in [0, 1) (a fraction of 1/sqrt(out)) and patience_epochs "
         ">= 1; fix the value", where);
  if (s.kind == Kind::kByol && !(s.momentum_start >= 0 && s.momentum_start <= s.momentum_end && s.momentum_end <= 1))
    fail("{}: key 'method_config.momentum' needs 0 <= start <= end <= 1 (BYOL: 0.996 to 1); fix the value", where);
  if (s.kind == Kind::kDisiam &&
      (s.assistant.embed_dim < 1 || s.assistant.depth < 1 || s.assistant.num_heads < 1 ||
       s.assistant.embed_dim % s.assistant.num_heads != 0))
    fail("{}: key 'method_config.assistant' needs embed_dim, depth, num_heads >= 1 with embed_dim divisible by "
         "num_heads; fix the value", where);
  return s;
}

// The checkpointed model: the online branch, BYOL's EMA target or DiSiam's assistant, and the collapse counter.
class SiameseModelImpl : public torch::nn::Module {
 public:
  explicit SiameseModelImpl(const SiameseConfig& c) {
    BranchOptions o;
    o.projector = c.projector;
    o.projector_hidden = c.projector_hidden;
    o.out = c.out;
    o.predictor_hidden = c.predictor_hidden;
    o.encoder.img_size = c.views.out_size;
    online = register_module("online", SiameseBranch(o));
    if (c.kind == Kind::kByol) {
      BranchOptions t = o;
      t.predictor_hidden = 0;
      target = register_module("target", SiameseBranch(t));
      for (auto& q : target->parameters()) q.set_requires_grad(false);
    }
    if (c.kind == Kind::kDisiam) {
      BranchOptions a = o;
      a.encoder = c.assistant;
      assistant = register_module("assistant", SiameseBranch(a));
    }
    collapse_epochs = register_buffer("collapse_epochs", torch::zeros({1}, torch::kInt64));
  }
  SiameseBranch online{nullptr}, target{nullptr}, assistant{nullptr};
  torch::Tensor collapse_epochs;
};
TORCH_MODULE(SiameseModel);

// The target's parameters paired with the online branch's same-named ones (BYOL: the target has no predictor).
std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> ema_pairs(SiameseModelImpl& m) {
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> out;
  const auto online = m.online->named_parameters(true);
  for (const auto& t : m.target->named_parameters(true)) {
    out.first.push_back(t.value());
    out.second.push_back(online[t.key()]);
  }
  return out;
}

double grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const auto& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

std::vector<torch::Tensor> split_views(const torch::Tensor& t, int64_t views) {
  return t.chunk(views, 0);
}

struct StepLoss {
  torch::Tensor loss, online_term, assistant_term;
  torch::Tensor z_a, z_b;  // the online projections of views a and b
};

class SiameseMethod final : public PretrainMethod {
 public:
  SiameseMethod(SiameseConfig cfg, SiameseModel model, std::shared_ptr<ViewLoader> train,
                std::shared_ptr<ViewLoader> val, int64_t train_batches, int64_t val_batches, int64_t total_steps,
                std::shared_ptr<KnnProbe> knn)
      : cfg_(std::move(cfg)),
        model_(std::move(model)),
        train_(std::move(train)),
        val_(std::move(val)),
        train_batches_(train_batches),
        val_batches_(val_batches),
        total_steps_(total_steps),
        knn_(std::move(knn)) {}

  torch::nn::Module& model() override { return *model_; }
  std::string image_encoder_prefix() const override { return "online.encoder."; }
  std::string sample_unit() const override { return "images"; }
  void bind(const MethodContext& ctx) override { ctx_ = ctx; }
  MethodParameters parameters() override {
    MethodParameters out;
    online_params_.clear();
    assistant_params_.clear();
    auto add = [&](const std::string& prefix, SiameseBranch& b, std::vector<torch::Tensor>& norm_group) {
      for (auto& p : b->named_parameters(true)) {
        out.named.emplace_back(prefix + p.key(), p.value());
        const bool predictor = p.key().rfind("predictor.", 0) == 0;
        (predictor && cfg_.predictor_fixed_lr ? out.fixed_lr : out.decay).push_back(p.value());
        norm_group.push_back(p.value());
      }
    };
    add("online.", model_->online, online_params_);
    if (model_->assistant) add("assistant.", model_->assistant, assistant_params_);
    // fixed_lr comes last in the optimizer: keep `named` in group order (decay, then fixed_lr)
    std::stable_partition(out.named.begin(), out.named.end(), [&](const auto& kv) {
      return !(cfg_.predictor_fixed_lr && kv.first.find(".predictor.") != std::string::npos);
    });
    return out;
  }
  int64_t train_batches() const override { return train_batches_; }
  int64_t val_batches() const override { return val_batches_; }
  void set_training(bool training) override { model_->train(training); }

  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys& keys) override {
    step_ = keys.step;
    auto t = Clock::now();
    const ViewBatch b = train_->batch(static_cast<uint64_t>(epoch), index);
    t_data_ += seconds_since(t);
    const StepLoss l = loss_of(b, true);
    last_online_ = l.online_term.defined() ? l.online_term.item<double>() : 0;
    last_assistant_ = l.assistant_term.defined() ? l.assistant_term.item<double>() : 0;
    return l.loss;
  }
  void after_backward() override {
    gn_online_ += grad_norm(online_params_);
    if (!assistant_params_.empty()) gn_assistant_ += grad_norm(assistant_params_);
  }
  void after_optimizer_step() override {
    if (cfg_.kind != Kind::kByol) return;
    momentum_ = cosine_schedule(step_, total_steps_, cfg_.momentum_start, cfg_.momentum_end);
    const auto [target, online] = ema_pairs(*model_);
    ema_update(target, online, momentum_);
  }
  json step_record() const override {
    if (cfg_.kind == Kind::kByol) return {{"momentum", momentum_}};
    if (cfg_.kind == Kind::kDisiam) return {{"online_term", last_online_}, {"assistant_term", last_assistant_}};
    return json::object();
  }

  json validate(int64_t epoch) override {
    double loss = 0, acc = 0;
    std::vector<torch::Tensor> za_all, zb_all;
    for (int64_t i = 0; i < val_batches_; ++i) {
      const ViewBatch b = val_->batch(static_cast<uint64_t>(epoch), i);
      const StepLoss l = loss_of(b, false);
      loss += l.loss.item<double>();
      acc += positive_pair_accuracy(l.z_a.cpu(), l.z_b.cpu());
      za_all.push_back(l.z_a.cpu());
      zb_all.push_back(l.z_b.cpu());
    }
    const auto n = static_cast<double>(val_batches_);
    const double B = static_cast<double>(ctx_.batch_size);
    const double z_std = normalised_std(torch::cat(za_all), torch::cat(zb_all));
    const double uniform = 1.0 / std::sqrt(static_cast<double>(cfg_.out));
    const double floor = cfg_.std_floor * uniform;
    auto& counter = model_->collapse_epochs;
    counter.fill_(z_std < floor ? counter.item<int64_t>() + 1 : 0);  // checkpointed: a resumed run counts on
    const int64_t below = counter.item<int64_t>();
    json r{{"val_loss", loss / n},
           {"chance_loss", cfg_.kind == Kind::kByol ? 4.0 : 0.0},
           {"positive_pair_accuracy", acc / n},
           {"positive_pair_chance", 1.0 / (2 * B - 1)},
           {"z_std", z_std},
           {"z_std_uniform", uniform},
           {"collapse_epochs", below},
           {"diagnostic", {{"name", "positive-pair accuracy"}, {"value", acc / n}, {"chance", 1.0 / (2 * B - 1)}}}};
    if (knn_) {  // the thesis's k-NN accuracy on the online encoder's CLS embedding; then the report's diagnostic
      const double acc_knn = knn_->accuracy([&](const torch::Tensor& x) {
        return model_->online->encoder->forward_features(x.to(ctx_.device)).select(1, 0);
      });
      r["knn_accuracy"] = acc_knn;
      r["knn_chance"] = knn_->chance();
      r["diagnostic"] = {{"name", "k-NN accuracy"}, {"value", acc_knn}, {"chance", knn_->chance()}};
    }
    if (below >= cfg_.patience)
      r["collapse"] = fmt::format(
          "the projections collapsed: per-dimension std of the normalised val projections {:.3g} < collapse.std_floor "
          "{} x 1/sqrt({}) = {:.3g} for {} epoch(s) in a row (since epoch {}; epoch {} was the last above it)",
          z_std, cfg_.std_floor, cfg_.out, floor, below, epoch - below + 1, epoch - below);
    return r;
  }
  json epoch_record(int64_t steps) override {
    const auto s = static_cast<double>(steps);
    json gn{{"online", gn_online_ / s}};
    if (!assistant_params_.empty()) gn["assistant"] = gn_assistant_ / s;
    json r{{"grad_norm", gn}, {"speed", {{"data_s", t_data_}, {"forward_s", t_forward_}, {"loss_s", t_loss_}}}};
    gn_online_ = gn_assistant_ = t_data_ = t_forward_ = t_loss_ = 0;
    return r;
  }

 private:
  // The step's loss on a batch of M views (train: with autograd; val: under the loop's NoGradGuard).
  StepLoss loss_of(const ViewBatch& b, bool train) {
    std::vector<torch::Tensor> views{b.view_a, b.view_b};
    views.insert(views.end(), b.extra_views.begin(), b.extra_views.end());
    const auto m = static_cast<int64_t>(views.size());
    const auto x = torch::cat(views).to(ctx_.device);
    auto t = Clock::now();
    const BranchOutput on = model_->online->forward(x);
    BranchOutput other;
    if (model_->target) {
      torch::NoGradGuard ng;  // the EMA target gets no gradient
      other = model_->target->forward(x);
    } else if (model_->assistant) {
      other = model_->assistant->forward(x);
    }
    if (train) t_forward_ += seconds_since(t);
    t = Clock::now();
    const auto z = split_views(on.z, m), p = split_views(on.p, m);
    StepLoss l;
    l.z_a = z[0];
    l.z_b = z[1];
    switch (cfg_.kind) {
      case Kind::kSimsiam:
        l.loss = fastsiam_loss(p, z);
        break;
      case Kind::kByol: {
        const auto tz = split_views(other.z, m);
        l.loss = byol_loss(p[0], p[1], tz[0], tz[1]);
        break;
      }
      case Kind::kDisiam: {
        const DisiamTerms d = disiam_loss(p, split_views(other.p, m), split_views(other.z, m));
        l.loss = d.loss;
        l.online_term = d.online;
        l.assistant_term = d.assistant;
        break;
      }
    }
    if (train) t_loss_ += seconds_since(t);
    return l;
  }

  SiameseConfig cfg_;
  SiameseModel model_;
  std::shared_ptr<ViewLoader> train_, val_;
  int64_t train_batches_, val_batches_, total_steps_;
  std::shared_ptr<KnnProbe> knn_;
  MethodContext ctx_;
  std::vector<torch::Tensor> online_params_, assistant_params_;
  int64_t step_ = 0;
  double momentum_ = 0, last_online_ = 0, last_assistant_ = 0;
  double gn_online_ = 0, gn_assistant_ = 0, t_data_ = 0, t_forward_ = 0, t_loss_ = 0;
};

std::unique_ptr<PretrainMethod> build(const MethodBuild& in) {
  const PretrainProtocol& p = *in.protocol;
  SiameseConfig cfg = parse_config(p);
  SiameseModel model(cfg);
  model->online->init_weights(in.seed, "online");
  if (in.image_init != "random") {
    const auto path = resolve_init(in.image_init, default_weights_lookup()).path;
    const auto w = import_vit_weights(path, p.image_size / 16);
    load_vit_checked(*model->online->encoder, w.mapped, path.string());
    spdlog::info("weights: online image encoder from {} ({} layout)", path.string(), w.mapped.layout);
  }
  if (model->target) {  // BYOL: the target starts as a copy of the online network
    torch::NoGradGuard ng;
    const auto [target, online] = ema_pairs(*model);
    for (size_t i = 0; i < target.size(); ++i) target[i].copy_(online[i]);
  }
  if (model->assistant) {  // its own key: the same parameter names as the online ViT must not draw the same numbers
    Stream key(in.seed, "disiam/assistant");
    model->assistant->init_weights(key.next_u64(), "assistant");
  }
  std::array<float, 3> mean{}, sd{};
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<float>(p.mean[c]);
    sd[c] = static_cast<float>(p.std[c]);
  }
  const int64_t rows = p.batch_size / in.world;
  auto train = std::make_shared<ViewLoader>(image_frames(in, "train"), cfg.views, mean, sd, PairMode::kTrain, in.seed,
                                            p.batch_size, PairRows{in.rank * rows, rows}, cfg.views_per_frame);
  auto val = std::make_shared<ViewLoader>(image_frames(in, "val"), cfg.views, mean, sd, PairMode::kVal, in.seed, p.batch_size,
                                          PairRows{}, cfg.views_per_frame);
  auto limited = [](int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; };
  const int64_t tb = limited(train->batches_per_epoch(), p.limit_train_batches);
  const int64_t vb = limited(val->batches_per_epoch(), p.limit_val_batches);
  auto knn = cfg.knn ? std::make_shared<KnnProbe>(*cfg.knn) : nullptr;
  if (knn)
    spdlog::info("k-NN probe: {} — {} classes, {} bank and {} query images, k {}", cfg.knn->root.string(),
                 knn->classes().size(), knn->bank_size(), knn->query_size(), cfg.knn->k);
  return std::make_unique<SiameseMethod>(std::move(cfg), std::move(model), std::move(train), std::move(val), tb, vb,
                                         tb * p.epochs, std::move(knn));
}

// b<B>[-from-<method>-<variant>-ep<N>]: the batch, and the chained init (inits.image) when the run starts from another
// method's exported encoder (the thesis's chaining method, methods_reference.md §3.1).
std::optional<MethodVariant> parse_variant(const std::string& variant) {
  static const std::regex re(R"(^b(\d+)(?:-from-([a-z0-9_]+-.+)-ep(\d+))?$)");
  std::smatch m;
  if (!std::regex_match(variant, m, re)) return std::nullopt;
  MethodVariant v;
  v.batch_size = std::stoll(m[1].str());
  if (m[2].matched) v.set.emplace_back("inits.image", m[2].str() + "@ep" + m[3].str());
  return v;
}

std::string variant_name(const PretrainProtocol& p) {
  static const std::regex chained(R"(^([a-z0-9_]+-.+)@ep(\d+)$)");
  std::smatch m;
  std::string v = fmt::format("b{}", p.batch_size);
  if (std::regex_match(p.image_init, m, chained)) v += fmt::format("-from-{}-ep{}", m[1].str(), m[2].str());
  return v;
}

std::string headline(const json& last) {
  return fmt::format("val loss {:.4f} (chance {:.4f}), positive-pair accuracy {:.3f} (chance {:.3f}), z_std {:.4f} "
                     "(uniform {:.4f})",
                     last["val_loss"].get<double>(), last["chance_loss"].get<double>(),
                     last["positive_pair_accuracy"].get<double>(), last["positive_pair_chance"].get<double>(),
                     last["z_std"].get<double>(), last["z_std_uniform"].get<double>());
}

MethodInfo info(std::string name, std::string summary, std::string protocol) {
  return MethodInfo{std::move(name),
                    std::move(summary),
                    {"image"},
                    "images",
                    std::move(protocol),
                    build,
                    variant_name,
                    parse_variant,
                    headline,
                    "b<B>[-from-<method>-<variant>-ep<N>]",
                    [](const PretrainProtocol& p) { parse_config(p); }};
}

const MethodRegistration simsiam_registration{info(
    "simsiam",
    "SimSiam: negative cosine between one view's prediction and the other view's stop-gradient projection, one "
    "ViT-S/16 network (Chen & He 2021)",
    "simsiam_a2d2")};
const MethodRegistration byol_registration{info(
    "byol",
    "BYOL: the online network's prediction regresses onto an EMA target's projection of the other view, 2 - 2 cos "
    "(Grill et al. 2020)",
    "byol_a2d2")};
const MethodRegistration disiam_registration{info(
    "disiam",
    "DiSiam: SimSiam on a wider assistant ViT whose stop-gradient projections the ViT-S/16 online network also "
    "predicts (Hierhager's thesis, dynamic distillation)",
    "disiam_a2d2")};

}  // namespace
}  // namespace clcp::siamese
