// The proof that the method interface is real (issue 16): a pretraining method defined only in this file — its
// model, loss, diagnostics, registration and protocol file — runs through `clcp-bench pretrain`, chains into
// `clcp-bench run` by its init name and appears in the report, driven through the CLI's own entry (clcp_cli,
// in-process, because the method lives in this test binary) with no other file of the product knowing it.
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <fstream>

#include "cli_harness.hpp"
#include "models/vit.hpp"
#include "suite/cells/chain.hpp"
#include "suite/cli/commands.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/rng.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using clcp::cells::parse_chained_init;
namespace fs = std::filesystem;

namespace {

// The method: a ViT-S/16 whose CLS embedding of an image and of its mirror image are pulled together (a
// flip-invariance objective); inputs are keyed noise images, so the test needs nothing from the data but its
// presence. What matters here is the plumbing, not what it learns.
struct PluginNet : torch::nn::Module {
  PluginNet() { encoder = register_module("encoder", VisionTransformer(VitOptions{})); }
  torch::Tensor embed(const torch::Tensor& x) { return encoder->forward_features(x).select(1, 0); }
  VisionTransformer encoder{nullptr};
};

class PluginMethod final : public PretrainMethod {
 public:
  explicit PluginMethod(const MethodBuild& in) : batch_(in.protocol->batch_size) {
    net_->encoder->init_weights(in.seed);
  }
  torch::nn::Module& model() override { return *net_; }
  std::string image_encoder_prefix() const override { return "encoder."; }
  std::string sample_unit() const override { return "images"; }
  void bind(const MethodContext& ctx) override { ctx_ = ctx; }
  MethodParameters parameters() override {
    MethodParameters p;
    for (auto& kv : net_->named_parameters()) {
      p.named.emplace_back(kv.key(), kv.value());
      (kv.value().dim() <= 1 ? p.no_decay : p.decay).push_back(kv.value());
    }
    return p;
  }
  int64_t train_batches() const override { return 2; }
  int64_t val_batches() const override { return 1; }
  void set_training(bool t) override { net_->train(t); }
  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys&) override {
    return loss(images(Stream(ctx_.seed, "plugin/train", static_cast<uint64_t>(epoch), static_cast<uint64_t>(index))));
  }
  nlohmann::json validate(int64_t) override {
    torch::NoGradGuard ng;
    const double l = loss(images(Stream(7, "plugin/val"))).item<double>();
    return {{"val_loss", l}, {"diagnostic", {{"name", "flip distance"}, {"value", l}, {"chance", 1.0}}}};
  }
  nlohmann::json epoch_record(int64_t steps) override { return {{"steps_seen", steps}, {"speed", nlohmann::json::object()}}; }

 private:
  torch::Tensor images(Stream s) const {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(s.next_u64());
    return torch::randn({batch_, 3, 224, 224}, gen);
  }
  torch::Tensor loss(const torch::Tensor& x) {
    const auto a = torch::nn::functional::normalize(net_->embed(x), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const auto b = torch::nn::functional::normalize(net_->embed(x.flip({3})),
                                                    torch::nn::functional::NormalizeFuncOptions().dim(1));
    return (a - b).pow(2).sum(1).mean();
  }
  int64_t batch_;
  std::shared_ptr<PluginNet> net_ = std::make_shared<PluginNet>();
  MethodContext ctx_;
};

const MethodRegistration plugin_registration{MethodInfo{
    "plugin",
    "a method defined in a CLI test",
    {"image"},
    "images",
    "plugin_a2d2",
    [](const MethodBuild& in) -> std::unique_ptr<PretrainMethod> { return std::make_unique<PluginMethod>(in); },
    [](const PretrainProtocol& p) { return "b" + std::to_string(p.batch_size); },
    [](const std::string& v) -> std::optional<MethodVariant> {
      if (v != "b2") return std::nullopt;
      MethodVariant m;
      m.batch_size = 2;
      return m;
    },
    [](const nlohmann::json& last) { return "flip distance " + last["val_loss"].dump(); },
    "b<B>"}};

// Its one protocol file, in a protocols folder beside copies of the product's own (dg_acdc binds it by name).
const char* kPluginProtocol = R"({
  "schema": "clcp-bench/pretrain-protocol/1",
  "name": "plugin_a2d2",
  "version": 1,
  "method": "plugin",
  "description": "a method defined in a test, on the A2D2 camera frames",
  "data": {"dataset": "a2d2", "val_ratio": 0.25, "image_size": 224, "mean": [123.675, 116.28, 103.53],
           "std": [58.395, 57.12, 57.375]},
  "model": {"image_encoder": "vit_small_patch16_224"},
  "method_config": {},
  "inits": {"image": "random"},
  "optimizer": {"type": "adamw", "lr": 0.0001, "weight_decay": 0.01, "betas": [0.9, 0.98], "eps": 1e-8},
  "schedule": {"type": "linear_warmup_cosine_restarts", "step": "epoch", "warmup_epochs": 1, "warmup_start_lr": 1e-6,
               "T_0": 1, "T_mult": 2, "eta_min": 1e-5},
  "train": {"epochs": 2, "batch_size": 2, "drop_last": true, "keep_epochs": [1], "limit_train_batches": 0,
            "limit_val_batches": 0},
  "seeds": [0],
  "decisions": [{"topic": "objective", "choice": "flip invariance of the CLS embedding", "why": "a test method"}],
  "scales": {"full": {"description": "as above", "overrides": {}},
             "ci": {"description": "as above", "overrides": {}}}
})";

int plugin_cli(const std::vector<std::string>& args) {
  std::vector<std::string> all{"clcp-bench"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  return cli::run_cli(static_cast<int>(argv.size()), argv.data());
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a method defined in a test pretrains through the CLI, chains into run by name and is reported",
          "[cli][methods][slow]") {
  const fs::path data = test::shared_synth(
      "cli_a2d2", "--seed 5 --train-images 8 --val-images 4 --acdc-per-condition 2 --a2d2-scenes 4 --a2d2-frames 8");
  const fs::path root = fs::temp_directory_path() / "method_plugin";
  fs::remove_all(root);
  const fs::path protocols = root / "protocols", out = root / "results";
  fs::create_directories(protocols);
  for (const auto& e : fs::directory_iterator(fs::path(test::source_dir()) / "protocols"))
    if (e.path().extension() == ".json") fs::copy_file(e.path(), protocols / e.path().filename());
  write_atomic(protocols / "plugin_a2d2.json", kPluginProtocol);
  ::setenv("CLCP_PROTOCOLS_DIR", protocols.c_str(), 1);

  REQUIRE(find_method("plugin").default_protocol == "plugin_a2d2");
  REQUIRE(plugin_cli({"pretrain", "--protocol", "plugin_a2d2", "--scale", "ci", "--threads", "2", "--data-root",
               data.string(), "--out", out.string()}) == 0);
  fs::path pre;
  for (const auto& e : fs::directory_iterator(out / "plugin_a2d2"))
    if (e.path().filename().string().rfind("plugin-b2.s0-", 0) == 0) pre = e.path();
  REQUIRE_FALSE(pre.empty());
  CHECK(read_json(pre / "status.json")["state"] == "done");
  CHECK(read_json(pre / "provenance.json")["method"] == "plugin");
  const auto metrics = read_json(pre / "metrics.json");
  CHECK(metrics["epochs"].size() == 2);
  CHECK(metrics["exports"].contains("plugin-b2@ep1"));
  REQUIRE(fs::exists(encoder_export_path(pre, 1)));

  // chained by name into the finetune grid: the finetune cell's init is that exported encoder
  REQUIRE(plugin_cli({"run", "--protocol", "dg_acdc", "--scale", "ci", "--init", "plugin-b2@ep1", "--finetune", "frozen",
               "--seed", "0", "--threads", "2", "--data-root", data.string(), "--out", out.string()}) == 0);
  fs::path cell;
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (fs::exists(e.path() / "spec.json") && read_json(e.path() / "spec.json")["init"] == "plugin-b2@ep1")
      cell = e.path();
  REQUIRE_FALSE(cell.empty());
  const auto prov = read_json(cell / "provenance.json");
  CHECK(fs::path(prov["pretrain_bundle"].get<std::string>()).filename() == pre.filename());
  CHECK(fs::path(prov["init_file"].get<std::string>()).filename() == encoder_export_path(pre, 1).filename());
  CHECK(read_json(cell / "status.json")["state"] == "done");
  const std::string report = slurp(out / "dg_acdc" / "report-ci" / "report.md");
  CHECK(report.find("plugin-b2@ep1") != std::string::npos);
  CHECK(report.find("flip distance") != std::string::npos);  // the method's own diagnostic, in the pretraining section

  // an unknown variant of the method is refused with the command that makes one
  CHECK(plugin_cli({"run", "--protocol", "dg_acdc", "--scale", "ci", "--init", "plugin-b8@ep1", "--threads", "2",
                    "--data-root", data.string(), "--out", out.string()}) == 2);
  CHECK_THROWS_WITH(parse_chained_init("plugin-b8@ep1", load_protocol("dg_acdc", "ci")),
                    "--init plugin-b8@ep1: method plugin has no variant 'b8' (its init names are plugin-b<B>@ep<N>); "
                    "`clcp-bench pretrain --protocol plugin_a2d2` prints the names of the encoders it exports");
  ::unsetenv("CLCP_PROTOCOLS_DIR");
}
