// The method interface is real: a method defined here, in the test — its model, data, loss and diagnostics — is
// registered by name, runs through the generic loop (suite/pretrain/pretrain.hpp) with no other file knowing it,
// gives the same bytes twice and after an interruption, exports its encoder in its own names, and its init names
// resolve through the registry. Also: the built-in methods are registered, unknown names are refused in one line.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/hash.hpp"
#include "suite/core/rng.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/methods/simclr/nt_xent.hpp"
#include "suite/pretrain/pretrain.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "support/python_oracle.hpp"
#include "support/pretrain_log.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

// A two-layer "encoder + head" on 4-d points; the two views are a point and the point plus keyed noise.
struct ToyNet : torch::nn::Module {
  ToyNet() {
    encoder = register_module("encoder", torch::nn::Linear(4, 3));
    head = register_module("head", torch::nn::Linear(3, 2));
    torch::NoGradGuard ng;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
    for (auto& p : parameters()) p.copy_(torch::randn(p.sizes(), gen) * 0.5);
  }
  torch::Tensor forward(const torch::Tensor& x) { return head->forward(torch::relu(encoder->forward(x))); }
  torch::nn::Linear encoder{nullptr}, head{nullptr};
};

class ToyMethod final : public PretrainMethod {
 public:
  torch::nn::Module& model() override { return *net_; }
  std::string image_encoder_prefix() const override { return "encoder."; }
  std::string sample_unit() const override { return "points"; }
  void bind(const MethodContext& ctx) override { ctx_ = ctx; }
  MethodParameters parameters() override {
    MethodParameters p;
    for (auto& kv : net_->named_parameters()) {
      p.named.emplace_back(kv.key(), kv.value());
      (kv.key().rfind("head.", 0) == 0 ? p.no_decay : p.decay).push_back(kv.value());
    }
    return p;
  }
  int64_t train_batches() const override { return 3; }
  int64_t val_batches() const override { return 1; }
  void set_training(bool t) override { net_->train(t); }
  torch::Tensor train_loss(int64_t epoch, int64_t index, const StepKeys& keys) override {
    const auto x = points(Stream(ctx_.seed, "toy/data", static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)));
    const auto noise = points(Stream(keys.seed, "toy/noise", keys.key())) * 0.1;
    ++steps_;
    return nt_xent(net_->forward(x), net_->forward(x + noise), 0.5);
  }
  nlohmann::json step_record() const override { return {{"toy_steps", steps_}}; }
  nlohmann::json validate(int64_t) override {
    const auto x = points(Stream(99, "toy/val"));
    const auto za = net_->forward(x), zb = net_->forward(x * 1.01);
    return {{"val_loss", nt_xent(za, zb, 0.5).item<double>()},
            {"diagnostic", {{"name", "positive-pair accuracy"}, {"value", positive_pair_accuracy(za, zb)}, {"chance", 1.0 / 7}}}};
  }
  nlohmann::json epoch_record(int64_t steps) override { return {{"steps_seen", steps}, {"speed", {{"toy_s", 0.0}}}}; }

 private:
  static torch::Tensor points(Stream s) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(s.next_u64());
    return torch::randn({4, 4}, gen);
  }
  std::shared_ptr<ToyNet> net_ = std::make_shared<ToyNet>();
  MethodContext ctx_;
  int64_t steps_ = 0;
};

const MethodRegistration toy_registration{MethodInfo{
    "toy",
    "a method defined in a test",
    {"image"},
    "images",
    "",
    [](const MethodBuild&) -> std::unique_ptr<PretrainMethod> { return std::make_unique<ToyMethod>(); },
    [](const PretrainProtocol& p) { return "b" + std::to_string(p.batch_size); },
    [](const std::string& v) -> std::optional<MethodVariant> {
      if (v != "b4") return std::nullopt;
      MethodVariant m;
      m.batch_size = 4;
      return m;
    },
    [](const nlohmann::json& last) { return "val loss " + last["val_loss"].dump(); }}};

PretrainConfig toy_config() {
  PretrainConfig c;
  c.epochs = 3;
  c.batch_size = 4;
  c.schedule = {1e-2, 1, 1e-4, 1, 2, 1e-4};
  c.keep_epochs = {0};
  c.seed = 8;
  c.fingerprint = "toy";
  c.cell_id = "toy-cell";
  return c;
}

}  // namespace

TEST_CASE("a method defined in a test registers and runs through the generic loop, to the same bytes after a stop",
          "[methods]") {
  // registered beside the built-in methods, found by name and by init name
  std::vector<std::string> names;
  for (const MethodInfo* m : registered_methods()) names.push_back(m->name);
  CHECK(names == std::vector<std::string>{"byol", "clcp", "disiam", "simclr", "simsiam", "supervised", "toy"});
  CHECK(find_method("toy").summary == "a method defined in a test");
  CHECK(method_of_init("toy-b4@ep1") == &find_method("toy"));
  CHECK(method_of_init("random") == nullptr);
  CHECK(find_method("toy").parse_variant("b4")->batch_size == 4);
  CHECK_FALSE(find_method("toy").parse_variant("b8"));
  CHECK_THROWS_WITH(find_method("nosuch"),
                    "unknown pretraining method 'nosuch'; known methods: byol, clcp, disiam, simclr, simsiam, supervised, toy (clcp-bench methods lists them)");
  CHECK_THROWS_AS(MethodRegistration(MethodInfo{"toy"}), std::logic_error);
  CHECK_THROWS_AS(MethodRegistration(MethodInfo{"bad-name"}), std::logic_error);

  test::TempDir a, b, c;
  {
    auto m = find_method("toy").build(MethodBuild{});
    const auto r = pretrain(*m, toy_config(), a.path);
    CHECK(r.completed);
  }
  {
    auto m = find_method("toy").build(MethodBuild{});
    pretrain(*m, toy_config(), b.path);
  }
  const std::string log = clcp::test::deterministic_pretrain_log(a.path);
  CHECK(log == clcp::test::deterministic_pretrain_log(b.path));
  const auto first = nlohmann::json::parse(log.substr(0, log.find('\n')));
  CHECK(first["steps"] == 3);
  CHECK(first["steps_seen"] == 3);
  CHECK(first["diagnostic"]["name"] == "positive-pair accuracy");
  CHECK(first["lr"].get<double>() == Approx(1e-4));
  // the method's step record is in the step log; the epoch's speed carries the loop's and the method's parts
  std::ifstream steps(a.path / "train_log.jsonl");
  std::string step0;
  std::getline(steps, step0);
  CHECK(nlohmann::json::parse(step0)["toy_steps"] == 1);
  std::ifstream epochs(a.path / "pretrain_log.jsonl");
  std::string epoch0;
  std::getline(epochs, epoch0);
  const auto speed = nlohmann::json::parse(epoch0)["speed"];
  CHECK(speed.contains("points_per_s"));
  CHECK(speed.contains("toy_s"));
  CHECK(speed.contains("backward_s"));
  // the export holds the encoder alone, its prefix stripped
  const auto enc = load_safetensors(encoder_export_path(a.path, 2));
  CHECK(enc.size() == 2);
  CHECK(enc.count("weight") == 1);
  CHECK(enc.count("bias") == 1);
  CHECK(sha256_file(encoder_export_path(a.path, 2)) == sha256_file(encoder_export_path(b.path, 2)));
  // the head is in the no-decay group: its AdamW state is saved beside the encoder's
  const auto ck = load_pretrain_checkpoint(*find_latest_pretrain_checkpoint(a.path / "checkpoints"));
  CHECK(ck.optimizer.count("head.weight.exp_avg") == 1);
  CHECK(ck.optimizer.count("encoder.weight.exp_avg_sq") == 1);

  // stopped after the 5th step (epoch 1, step 1), then resumed: epoch 1 runs again from the epoch-0 checkpoint
  std::atomic<bool> stop{false};
  {
    auto m = find_method("toy").build(MethodBuild{});
    auto cfg = toy_config();
    cfg.stop = &stop;
    int n = 0;
    const auto r = pretrain(*m, cfg, c.path, [&](const PretrainProgress&) {
      if (++n == 5) stop = true;
    });
    CHECK_FALSE(r.completed);
    CHECK(r.epochs_done == 1);
  }
  {
    auto m = find_method("toy").build(MethodBuild{});
    const auto r = pretrain(*m, toy_config(), c.path);
    CHECK(r.resumed_from == 0);
  }
  // (the step log's toy_steps counts this object's steps, so only the epoch log is compared)
  CHECK(clcp::test::deterministic_pretrain_log(c.path) == log);
  CHECK(sha256_file(encoder_export_path(c.path, 2)) == sha256_file(encoder_export_path(a.path, 2)));
}

TEST_CASE("a collapse reported by a method stops the loop with the epoch and the figure, keeping the last good epoch",
          "[methods]") {
  class Collapsing final : public PretrainMethod {
   public:
    torch::nn::Module& model() override { return *net_; }
    std::string image_encoder_prefix() const override { return "encoder."; }
    std::string sample_unit() const override { return "points"; }
    void bind(const MethodContext&) override {}
    MethodParameters parameters() override {
      MethodParameters p;
      for (auto& kv : net_->named_parameters()) p.named.emplace_back(kv.key(), kv.value()), p.decay.push_back(kv.value());
      return p;
    }
    int64_t train_batches() const override { return 1; }
    int64_t val_batches() const override { return 1; }
    void set_training(bool t) override { net_->train(t); }
    torch::Tensor train_loss(int64_t, int64_t, const StepKeys&) override {
      return net_->forward(torch::ones({4, 4})).pow(2).mean();
    }
    nlohmann::json validate(int64_t epoch) override {
      nlohmann::json r{{"val_loss", 1.0}};
      if (epoch == 1) r["collapse"] = "the projections collapsed: z_std 0.0001 < 0.0088";
      return r;
    }
    nlohmann::json epoch_record(int64_t) override { return nlohmann::json::object(); }

   private:
    std::shared_ptr<ToyNet> net_ = std::make_shared<ToyNet>();
  } method;
  test::TempDir dir;
  auto cfg = toy_config();
  CHECK_THROWS_WITH(pretrain(method, cfg, dir.path),
                    Catch::Contains("epoch 1: the projections collapsed: z_std 0.0001 < 0.0088; last good epoch "
                                    "checkpoint kept at") &&
                        Catch::Contains("epoch_00.safetensors"));
  CHECK(fs::exists(dir.path / "checkpoints" / "epoch_00.safetensors"));
  CHECK_FALSE(fs::exists(dir.path / "checkpoints" / "epoch_01.safetensors"));
}

TEST_CASE("every CLCP variant name parses into overrides that make the same name again, the shuffled control included",
          "[methods]") {
  const MethodInfo& clcp = find_method("clcp");
  int n = 0;
  for (const std::string head : {"lin", "mlp"})
    for (const std::string fb : {"", "-fb"})
      for (const std::string aug : {"", "-aug"})
        for (const std::string shuf : {"", "-shuf"}) {
          const std::string name = "b4-" + head + fb + aug + shuf;
          const auto v = clcp.parse_variant(name);
          REQUIRE(v);
          CHECK(v->batch_size == 4);
          const PretrainProtocol p = load_pretrain_protocol("clcp_a2d2", "ci", v->set);
          CHECK(clcp.variant_name(p) == name);
          CHECK(p.pairing == (shuf.empty() ? "true" : "shuffled"));
          ++n;
        }
  CHECK(n == 16);
  CHECK_FALSE(clcp.parse_variant("b4-lin-shuf-aug"));  // the suffixes have one order
  CHECK_FALSE(clcp.parse_variant("b4"));
  // the shuffled control is its own recipe (fingerprint), the true pairing keeps the committed one
  const auto shuf = load_pretrain_protocol("clcp_a2d2", "ci", clcp.parse_variant("b4-lin-shuf")->set);
  CHECK(shuf.fingerprint() != load_pretrain_protocol("clcp_a2d2", "ci").fingerprint());
  CHECK(shuf.recipe_json()["data"]["pairing"] == "shuffled");
  CHECK_FALSE(load_pretrain_protocol("clcp_a2d2", "ci").recipe_json()["data"].contains("pairing"));
}

namespace {
// Two scalars trained on loss w + u (gradient 1 each, every step): w in the fixed-lr group, u in the scheduled one.
struct FixedLrScalars : torch::nn::Module {
  FixedLrScalars() {
    w = register_parameter("w", torch::zeros({1}));
    u = register_parameter("u", torch::zeros({1}));
  }
  torch::Tensor w, u;
};
struct FixedLrNet : torch::nn::Module {  // under "encoder." so that the loop's export finds them
  FixedLrNet() : encoder(register_module("encoder", std::make_shared<FixedLrScalars>())), w(encoder->w), u(encoder->u) {}
  std::shared_ptr<FixedLrScalars> encoder;
  torch::Tensor w, u;
};
class FixedLrMethod final : public PretrainMethod {
 public:
  torch::nn::Module& model() override { return *net_; }
  std::string image_encoder_prefix() const override { return "encoder."; }
  std::string sample_unit() const override { return "points"; }
  void bind(const MethodContext&) override {}
  MethodParameters parameters() override {
    MethodParameters p;
    p.named = {{"encoder.u", net_->u}, {"encoder.w", net_->w}};  // optimizer order: scheduled group first, the fixed-lr group last
    p.decay = {net_->u};
    p.fixed_lr = {net_->w};
    return p;
  }
  int64_t train_batches() const override { return 3; }
  int64_t val_batches() const override { return 1; }
  void set_training(bool) override {}
  torch::Tensor train_loss(int64_t, int64_t, const StepKeys&) override { return (net_->w + net_->u).sum(); }
  nlohmann::json validate(int64_t) override { return {{"val_loss", 0.0}}; }
  nlohmann::json epoch_record(int64_t) override { return {{"speed", nlohmann::json::object()}}; }
  std::shared_ptr<FixedLrNet> net_ = std::make_shared<FixedLrNet>();
};
}  // namespace

TEST_CASE("a method's fixed-lr parameters train at the base lr while the schedule warms the others up",
          "[methods]") {
  test::TempDir dir;
  FixedLrMethod m;
  PretrainConfig c = toy_config();
  c.epochs = 1;               // epoch 0 is the warmup epoch: the schedule's lr is warmup_start_lr 1e-4
  c.weight_decay = 0.0;
  const auto r = pretrain(m, c, dir.path);
  REQUIRE(r.completed);
  // AdamW with a constant gradient moves each step by lr·m̂/(√v̂ + eps) = lr·1/(1 + 1e-8): three steps
  CHECK(m.net_->w.item<double>() == Approx(-3 * 1e-2).epsilon(1e-6));  // the base lr, not scheduled
  CHECK(m.net_->u.item<double>() == Approx(-3 * 1e-4).epsilon(1e-6));  // the warmup lr
}
