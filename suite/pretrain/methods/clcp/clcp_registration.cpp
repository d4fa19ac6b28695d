// Registers CLCP: the ClcpModel with its inits, the A2D2 pair loaders (train pairs shuffled by a seeded derangement
// for the negative control), and its init names clcp-b<B>-<lin|mlp>[-fb][-aug][-shuf]@ep<NN> (the thesis's Table 4.3
// rows, e.g. clcp-b256-mlp-fb@ep19; -shuf: the shuffled-pairs control).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <regex>

#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "models/lidar/import_minkunet.hpp"
#include "suite/pretrain/methods/clcp/clcp_method.hpp"
#include "suite/pretrain/methods/registry.hpp"

namespace clcp::method_clcp {  // each method's internals in a namespace of its own (unity batches)
namespace {

std::unique_ptr<PretrainMethod> build(const MethodBuild& in) {
  const PretrainProtocol& p = *in.protocol;
  if (!in.data->a2d2)
    fail("{}: clcp pretrains on camera-lidar pairs, but the data is a folder of images without lidar clouds; point "
         "--data-root at an A2D2 root (a2d2/camera_lidar_semantic) or use an image-only method (clcp-bench methods)",
         p.file.string());
  const A2D2Dataset& data = *in.data->a2d2;
  ClcpModel model(ClcpModelOptions{p.head, p.embed_dim, p.temperature, p.temperature_init, p.voxel_size,
                                   p.mlp_dropout});
  model->init_weights(in.seed);
  if (in.image_init != "random") {
    const auto path = resolve_init(in.image_init, default_weights_lookup()).path;
    const auto w = import_vit_weights(path, p.image_size / 16);
    load_vit_checked(*model->image_encoder->model, w.mapped, path.string());
    spdlog::info("weights: image tower from {} ({} layout)", path.string(), w.mapped.layout);
  }
  if (in.lidar_init != "random") {
    const auto path = resolve_init(in.lidar_init, default_weights_lookup()).path;
    const auto w = lidar::load_minkunet_checked(*model->point_cloud_encoder->backbone, path);
    spdlog::info("weights: lidar tower from {} ({} layout)", path.string(), w.layout);
  }
  PairPipelineOptions po;
  po.crop = static_cast<int>(p.crop[0]);
  po.out_size = static_cast<int>(p.image_size);
  po.reflectance = reflectance_scale_from_name(p.reflectance);
  po.augment = p.augment;
  for (int c = 0; c < 3; ++c) {
    po.mean_rgb[c] = static_cast<float>(p.mean[c]);
    po.std_rgb[c] = static_cast<float>(p.std[c]);
  }
  const int64_t rows = p.batch_size / in.world;  // rank r decodes only its rows of each batch
  PairSplit train_split = a2d2_split(data, "train");
  if (p.pairing == "shuffled") shuffle_pairing(train_split, in.seed);  // the negative control; val stays true
  auto train = std::make_shared<PairLoader>(std::move(train_split), po, PairMode::kTrain, in.seed, p.batch_size,
                                            in.loader_threads, 1, PairRows{in.rank * rows, rows});
  auto val = std::make_shared<PairLoader>(a2d2_split(data, "val"), po, PairMode::kVal, in.seed, p.batch_size,
                                          in.loader_threads, 1);
  auto limited = [](int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; };
  // the sources own their loaders (the method lives as long as the cell)
  PairSource train_src{limited(train->batches_per_epoch(), p.limit_train_batches),
                       [train](int64_t e, int64_t i) { return train->batch(static_cast<uint64_t>(e), i); }};
  PairSource val_src{limited(val->batches_per_epoch(), p.limit_val_batches),
                     [val](int64_t e, int64_t i) { return val->batch(static_cast<uint64_t>(e), i); }};
  ClcpMethodOptions o;
  o.lidar_mode = p.lidar_mode;
  o.lidar_bn = p.lidar_bn;
  o.temperature = p.temperature;
  o.retrieval_ks = p.retrieval_ks;
  o.negatives = in.negatives;
  return std::make_unique<ClcpMethod>(std::move(model), std::move(train_src), std::move(val_src), std::move(o));
}

std::optional<MethodVariant> parse_variant(const std::string& variant) {
  static const std::regex re(R"(^b(\d+)-(lin|mlp)(-fb)?(-aug)?(-shuf)?$)");
  std::smatch m;
  if (!std::regex_match(variant, m, re)) return std::nullopt;
  MethodVariant v;
  v.batch_size = std::stoll(m[1].str());
  v.set = {{"model.head", m[2].str() == "mlp" ? "mlp" : "linear"},
           {"model.lidar", m[3].matched ? "frozen" : "trainable"},
           {"data.augment", m[4].matched}};
  if (m[5].matched) v.set.emplace_back("data.pairing", "shuffled");
  return v;
}

std::string headline(const nlohmann::json& last) {
  return fmt::format("val loss {:.4f} (chance {:.4f}), R@1 image->lidar {:.3f} (chance {:.3f})",
                     last["val_loss"].get<double>(), last["chance_loss"].get<double>(),
                     last["retrieval"]["image_to_lidar"]["R@1"].get<double>(),
                     last["retrieval"]["chance"]["R@1"].get<double>());
}

const MethodRegistration registration{MethodInfo{
    "clcp",
    "camera-lidar contrastive pretraining: symmetric InfoNCE between the ViT-S/16 CLS embedding and the pooled "
    "MinkUNet34-W32 embedding of the same frame (Golombiewski 2024)",
    {"image", "lidar"},
    "camera-lidar pairs",
    "clcp_a2d2",
    build,
    [](const PretrainProtocol& p) { return p.variant_name(); },
    parse_variant,
    headline,
    "b<B>-<lin|mlp>[-fb][-aug][-shuf] (-fb: lidar frozen, -aug: the thesis's augmentation, -shuf: the shuffled-pairs "
    "negative control)"}};

}  // namespace
}  // namespace clcp::method_clcp
