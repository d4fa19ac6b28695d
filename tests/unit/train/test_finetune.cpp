#include <catch2/catch.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/rng.hpp"
#include "suite/train/checkpoint.hpp"
#include "suite/train/finetune.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kK = 3;  // classes of the tiny model

// A tiny stand-in for the Segmenter: "backbone" conv 3→4 (stride 4) and "decode_head" conv 4→K, so logits are
// [B,K,H/4,W/4] and the loss upsamples them. A drop-path-like random channel mask is keyed by before_step(t).
struct TinySegImpl : torch::nn::Module {
  torch::nn::Conv2d backbone{nullptr}, decode_head{nullptr};
  uint64_t mask_key = 0;
  explicit TinySegImpl(uint64_t init_seed) {
    backbone = register_module("backbone", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 4).stride(4)));
    decode_head = register_module("decode_head", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, kK, 1)));
    torch::NoGradGuard ng;
    auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(init_seed, "init").next_u64());
    for (auto& p : parameters()) p.normal_(0.0, 0.3, g);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(backbone->forward(x));
    auto g = at::make_generator<at::CPUGeneratorImpl>(mask_key);
    auto keep = torch::bernoulli(torch::full({1, 4, 1, 1}, 0.75), g) / 0.75;
    return decode_head->forward(h * keep);
  }
};
TORCH_MODULE(TinySeg);

TrainableModel adapt(TinySeg& m, uint64_t seed) {
  TrainableModel t;
  t.module = m.get();
  t.forward = [m](const torch::Tensor& x) mutable { return m->forward(x); };
  t.before_step = [m, seed](uint64_t step) mutable { m->mask_key = Stream(seed, "drop_path", step).next_u64(); };
  return t;
}

BatchFn batches(uint64_t seed, int64_t nan_at = -1) {
  return [seed, nan_at](uint64_t t) {
    auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(seed, "batch", t).next_u64());
    TrainBatch b;
    b.images = torch::randn({2, 3, 16, 16}, g, torch::kFloat32);
    b.labels = torch::randint(0, kK, {2, 16, 16}, g, torch::kInt64);
    b.labels.index_put_({0, 0}, 255);  // an ignored row
    if (static_cast<int64_t>(t) == nan_at) b.images[0][0][0][0] = std::nanf("");
    return b;
  };
}

FinetuneConfig config(int64_t max_iters) {
  FinetuneConfig c;
  c.max_iters = max_iters;
  c.batch_size = 2;
  c.lr = 0.05;
  c.checkpoint_interval = 3;
  c.log_interval = 1;
  c.seed = 7;
  return c;
}

// All test folders live under one per-process root, removed when the test program exits.
const fs::path& test_root() {
  static const struct Root {
    fs::path path = fs::temp_directory_path() / ("clcp_train_test_" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } root;
  return root.path;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = test_root() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<nlohmann::json> read_log(const fs::path& cell) {
  std::vector<nlohmann::json> out;
  std::ifstream in(cell / "train_log.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

void check_same_params(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (const auto& p : pa) {
    INFO(p.key());
    CHECK(torch::equal(p.value(), pb[p.key()]));
  }
}

}  // namespace

TEST_CASE("frozen mode leaves the backbone bit-identical and trains the head", "[train]") {
  TinySeg m(1);
  const auto before = state_dict(*m);
  TensorMap copy;
  for (const auto& [k, v] : before) copy[k] = v.clone();
  auto cfg = config(4);
  cfg.mode = "frozen";
  const auto d = fresh_dir("frozen");
  const auto r = finetune(adapt(m, 7), batches(7), cfg, d);
  CHECK(r.completed);
  CHECK(r.iterations_done == 4);
  for (const auto& p : m->named_parameters()) {
    INFO(p.key());
    if (p.key().rfind("backbone.", 0) == 0) {
      CHECK(torch::equal(p.value(), copy[p.key()]));
      CHECK_FALSE(p.value().requires_grad());
    } else {
      CHECK_FALSE(torch::equal(p.value(), copy[p.key()]));
    }
  }
  // The momentum file holds only head parameters.
  const auto latest = find_latest_checkpoint(d / "checkpoints");
  REQUIRE(latest);
  const auto ck = load_checkpoint(*latest);
  for (const auto& [k, v] : ck.momentum) CHECK(k.rfind("decode_head.", 0) == 0);
  CHECK(ck.momentum.size() == 2);
}

TEST_CASE("the same seed gives bit-identical weights and log values", "[train]") {
  TinySeg a(1), b(1);
  const auto da = fresh_dir("det_a"), db = fresh_dir("det_b");
  finetune(adapt(a, 7), batches(7), config(4), da);
  finetune(adapt(b, 7), batches(7), config(4), db);
  check_same_params(*a, *b);
  const auto la = read_log(da), lb = read_log(db);
  REQUIRE(la.size() == 4);
  REQUIRE(lb.size() == 4);
  for (size_t i = 0; i < la.size(); ++i)
    for (const char* k : {"iter", "loss", "lr", "acc_seg"}) CHECK(la[i][k] == lb[i][k]);
  // lr of completed iteration i+1 is poly_lr(i, 4, …): the first log line carries the base lr.
  CHECK(la[0]["lr"].get<double>() == 0.05);
  CHECK(la[3]["lr"].get<double>() == Approx(1e-4));
}

TEST_CASE("a run stopped at iteration 3 and resumed ends bit-identical to an uninterrupted run", "[train]") {
  TinySeg full(1);
  const auto d_full = fresh_dir("full");
  const auto r_full = finetune(adapt(full, 7), batches(7), config(6), d_full);
  CHECK(r_full.completed);

  const auto d = fresh_dir("resumed");
  {
    TinySeg first(1);
    std::atomic<bool> stop{false};
    auto cfg = config(6);
    cfg.stop = &stop;
    const auto r = finetune(adapt(first, 7), batches(7), cfg, d,
                            [&](const TrainProgress& p) { if (p.iter == 3) stop = true; });
    CHECK_FALSE(r.completed);
    CHECK(r.iterations_done == 3);
  }
  CHECK(find_latest_checkpoint(d / "checkpoints")->iteration == 3);
  // A crash after the checkpoint left a log line the resumed run must drop, and a torn line.
  append_line(d / "train_log.jsonl", R"({"iter":4,"loss":99.0,"lr":1.0,"acc_seg":0.0})");
  append_line(d / "train_log.jsonl", R"({"iter":5,"lo)");

  TinySeg second(12345);  // different init: everything must come from the checkpoint
  const auto r = finetune(adapt(second, 7), batches(7), config(6), d);
  CHECK(r.completed);
  CHECK(r.resumed_from == 3);
  check_same_params(*full, *second);

  const auto lf = read_log(d_full), lr = read_log(d);
  REQUIRE(lf.size() == 6);
  REQUIRE(lr.size() == 6);
  for (size_t i = 0; i < lf.size(); ++i)
    for (const char* k : {"iter", "loss", "lr", "acc_seg"}) {
      INFO(i << " " << k);
      CHECK(lf[i][k] == lr[i][k]);
    }
  // Resuming a finished cell does nothing.
  const auto again = finetune(adapt(second, 7), batches(7), config(6), d);
  CHECK(again.completed);
  CHECK(again.resumed_from == 6);
  CHECK(read_log(d).size() == 6);
}

TEST_CASE("a NaN loss stops with the iteration and the last good checkpoint", "[train]") {
  TinySeg m(1);
  const auto d = fresh_dir("nan");
  // 0-based t = 4 is iteration 5; the checkpoint after iteration 3 is the last good one.
  try {
    finetune(adapt(m, 7), batches(7, 4), config(6), d);
    FAIL("expected UserError");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("iteration 5: loss is NaN/Inf"));
    CHECK_THAT(msg, Catch::Contains((d / "checkpoints" / "iter_3.safetensors").string()));
  }
  const auto latest = find_latest_checkpoint(d / "checkpoints");
  REQUIRE(latest);
  CHECK(latest->iteration == 3);
  CHECK_FALSE(fs::exists(d / "checkpoints" / "iter_5.safetensors"));
  CHECK(read_log(d).size() == 4);
}

TEST_CASE("a resume with another seed is refused", "[train]") {
  TinySeg m(1);
  const auto d = fresh_dir("seed");
  auto cfg = config(3);
  finetune(adapt(m, 7), batches(7), cfg, d);
  cfg.seed = 8;
  cfg.max_iters = 6;
  CHECK_THROWS_WITH(finetune(adapt(m, 7), batches(7), cfg, d), Catch::Contains("seed 7"));
}

TEST_CASE("checkpoint retention keeps the newest keep_last plus the final one", "[train]") {
  const auto d = fresh_dir("keep");
  const TensorMap w{{"a", torch::ones({2})}};
  for (int64_t it = 1; it <= 5; ++it) save_checkpoint(d, it, 7, w, {}, {2, 2});
  std::vector<int64_t> left;
  for (int64_t it = 1; it <= 5; ++it)
    if (fs::exists(d / ("iter_" + std::to_string(it) + ".safetensors"))) left.push_back(it);
  CHECK(left == std::vector<int64_t>{2, 4, 5});
  CHECK_FALSE(fs::exists(d / "iter_3.state.safetensors"));
  const auto j = read_json(d / "latest.json");
  CHECK(j["iteration"] == 5);
  CHECK(j["weights"] == "iter_5.safetensors");
}

TEST_CASE("a checkpoint loads in Python safetensors with the model's key names", "[train]") {
  const fs::path py = CLCP_VENV_PYTHON;
  if (!fs::exists(py)) {
    WARN("skipped: no Python at " << py.string());
    return;
  }
  TinySeg m(1);
  const auto d = fresh_dir("python");
  const auto files = save_checkpoint(d, 3, 7, state_dict(*m), {{"decode_head.bias", torch::full({kK}, 0.5)}});
  const fs::path out = d / "py.json";
  const std::string cmd = fmt::format(
      "{} -c \"import json,sys; from safetensors import safe_open\n"
      "f=safe_open(sys.argv[1],'pt'); g=safe_open(sys.argv[2],'pt')\n"
      "json.dump({{'keys':sorted(f.keys()),'meta':f.metadata(),'w':f.get_tensor('decode_head.bias').tolist(),"
      "'m':g.get_tensor('decode_head.bias').tolist(),'smeta':g.metadata()}},open(sys.argv[3],'w'))\" {} {} {}",
      py.string(), files.weights.string(), files.state.string(), out.string());
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto j = read_json(out);
  CHECK(j["keys"] == std::vector<std::string>{"backbone.bias", "backbone.weight", "decode_head.bias",
                                              "decode_head.weight"});
  CHECK(j["meta"]["format"] == "clcp-bench/1");
  CHECK(j["meta"]["iteration"] == "3");
  CHECK(j["meta"]["seed"] == "7");
  CHECK(j["smeta"]["kind"] == "sgd_momentum");
  const auto bias = m->decode_head->bias;
  for (int64_t i = 0; i < kK; ++i) CHECK(j["w"][i].get<float>() == bias[i].item<float>());
  CHECK(j["m"] == std::vector<double>{0.5, 0.5, 0.5});
}
