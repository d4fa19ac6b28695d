#include "suite/cells/pretrain_cell.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "models/import/registry.hpp"
#include "models/precision.hpp"
#include "suite/cells/chain.hpp"
#include "suite/cells/lifecycle.hpp"
#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/core/shell.hpp"
#include "suite/core/signals.hpp"
#include "suite/data/a2d2_manifest.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/dist/launch.hpp"
#include "suite/dist/rank_env.hpp"
#include "suite/pretrain/distributed.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/pretrain.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "suite/results/bundle.hpp"
#include "suite/results/provenance.hpp"
#include "suite/train/progress.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Checks that a registry init is of the expected tower before any file is read.
void check_encoder_kind(const std::string& init, const std::string& want, const char* flag) {
  if (init == "random") return;
  const auto registry = load_registry(default_weights_lookup().registry);
  const auto e = std::find_if(registry.begin(), registry.end(), [&](const RegistryInit& r) { return r.name == init; });
  if (e != registry.end() && e->encoder != want)
    fail("{} {}: a registry {} encoder; expected a{} {} init{}", flag, init, e->encoder,
         want == "image" ? "n" : "", want == "image" ? "ViT-S/16 image" : "MinkUNet34-W32 lidar",
         want == "image" ? " (imagenet, liploc-kitti, random, file:PATH)" : " (minkunet34-semantickitti, random, file:PATH)");
}

// The back link of a chained run: the exporting bundle's chained_into.json lists the bundles that started from it.
void link_chained_into(const fs::path& source, const std::string& protocol, const std::string& id, const fs::path& dir) {
  const fs::path file = source / "chained_into.json";
  json links = fs::exists(file) ? read_json(file) : json::array();
  const json entry{{"protocol", protocol}, {"cell", id}, {"bundle", dir.string()}};
  if (std::find(links.begin(), links.end(), entry) == links.end()) links.push_back(entry);
  write_json_atomic(file, links);
}

std::string rerun_command(const PretrainProtocol& p, const PretrainOptions& o, const PretrainCellSpec& s, int threads) {
  std::string cmd = p.method == "clcp"
                        ? fmt::format("clcp-bench pretrain --protocol {} --scale {} --head {} --lidar {}{}", o.protocol,
                                      p.scale, p.head, p.lidar_mode, p.augment ? " --augment" : "")
                        : fmt::format("clcp-bench pretrain --protocol {} --scale {}", o.protocol, p.scale);
  for (const auto& kv : override_strings(o.set)) cmd += " --set " + shell_word(kv);
  cmd += fmt::format(" --seed {} --init {}", s.seed, s.image_init);
  if (p.method == "clcp" || s.lidar_init != "random") cmd += " --lidar-init " + s.lidar_init;
  cmd += fmt::format(" --threads {}", threads);
  if (!o.data_root.empty()) cmd += " --data-root " + o.data_root.string();
  if (o.device != "cpu") cmd += " --device " + o.device;
  if (o.out != "results") cmd += " --out " + o.out.string();
  if (o.world > 1) cmd += fmt::format(" --nproc {} --negatives {}", o.world, o.negatives);
  return cmd + " --force";
}

// The summary metrics.json of a pretraining bundle: every epoch's deterministic record and the exported encoders.
json summarise(const fs::path& dir, const PretrainCellSpec& spec, const PretrainProtocol& p) {
  json epochs = json::array();
  std::ifstream in(dir / "pretrain_log.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line);
    j.erase("speed");
    epochs.push_back(j);
  }
  json exports = json::object();
  for (const auto e : p.keep_epochs)
    exports[spec.encoder_name(e)] = fs::relative(encoder_export_path(dir, e), dir).generic_string();
  exports[spec.encoder_name(p.epochs - 1)] = fs::relative(encoder_export_path(dir, p.epochs - 1), dir).generic_string();
  return {{"kind", "pretrain"},
          {"cell_id", spec.id()},
          {"fingerprint", spec.fingerprint},
          {"epochs", epochs},
          {"final", epochs.empty() ? json() : epochs.back()},
          {"exports", exports}};
}

}  // namespace

PretrainProtocol resolve_pretrain_protocol(const PretrainOptions& o) {
  const std::string scale = !o.scale.empty() ? o.scale : (o.data_root.empty() ? "smoke" : "full");
  // CLCP's variant flags are shorthands for --set (applied first, so an explicit --set wins).
  ProtocolOverrides set;
  if (o.head) {
    if (*o.head != "linear" && *o.head != "mlp") fail("--head {}: expected linear or mlp", *o.head);
    set.emplace_back("model.head", *o.head);
  }
  if (o.lidar_mode) {
    if (*o.lidar_mode != "trainable" && *o.lidar_mode != "frozen")
      fail("--lidar {}: expected trainable or frozen", *o.lidar_mode);
    set.emplace_back("model.lidar", *o.lidar_mode);
  }
  if (o.augment) set.emplace_back("data.augment", true);
  set.insert(set.end(), o.set.begin(), o.set.end());
  PretrainProtocol p = load_pretrain_protocol(o.protocol, scale, set);
  const MethodInfo& method = find_method(p.method);  // an unknown method stops here, naming the known ones
  if (method.check_config) method.check_config(p);  // a bad method_config too, before any cell starts
  if (!o.image_init.empty()) p.image_init = o.image_init;
  if (!o.lidar_init.empty()) p.lidar_init = o.lidar_init;
  if (o.seed) p.seeds = {*o.seed};
  return p;
}

PretrainData read_pretrain_data(const PretrainProtocol& p, const fs::path& data_root) {
  if (p.dataset == "images") {  // an image-only method on a folder of images (suite/data/image_folder.hpp)
    if (data_root.empty())
      fail("{}: data.dataset \"images\" reads a folder of images; pass it with --data-root DIR", p.file.string());
    PretrainData d;
    d.images = read_image_folder(data_root, p.val_ratio);
    spdlog::info("data: {} — {} images ({} train, {} val)", d.images->root.string(), d.images->files.size(),
                 d.images->train.size(), d.images->val.size());
    return d;
  }
  fs::path root = data_root;
  if (root.empty()) {
    root = "data/synth";
    if (!fs::exists(root / "SYNTH.json")) {
      spdlog::info("data: no --data-root given and {} does not exist yet; rendering the embedded default data there",
                   root.string());
      synth::SynthOptions so;
      so.out = root;
      synth::generate(so);
    }
  }
  const fs::path a2d2 = find_a2d2_root(root);
  if (a2d2.empty())
    fail("{}: no A2D2 camera_lidar_semantic folder (looked for a2d2/camera_lidar_semantic and camera_lidar_semantic "
         "in it); pass --data-root DIR holding a2d2/camera_lidar_semantic/ and a2d2/cams_lidars.json, or render the "
         "embedded data with `clcp-bench data synth --out DIR`",
         root.string());
  A2D2Options ao;
  ao.val_ratio = p.val_ratio;
  A2D2Dataset d = read_a2d2(a2d2, ao);
  for (const auto& w : d.warnings) spdlog::warn("data: {}", w);
  spdlog::info("data: {} — {} scenes, {} pairs ({} train, {} val), {} files skipped", a2d2.string(), d.scenes.size(),
               d.pairs.size(), d.train.size(), d.val.size(), d.skipped.size());
  PretrainData out;
  out.a2d2 = std::move(d);
  return out;
}

PretrainCellSpec pretrain_cell_spec(const PretrainProtocol& p, const PretrainOptions& o, const PretrainData& data) {
  const MethodInfo& method = find_method(p.method);
  const bool lidar_tower = std::find(method.towers.begin(), method.towers.end(), "lidar") != method.towers.end();
  check_precision_supported(parse_precision(p.precision, p.file.string() + ": train.precision"),
                            o.device == "cuda" ? c10::DeviceType::CUDA : c10::DeviceType::CPU,
                            p.file.string() + ": train.precision");
  const std::optional<ChainedInit> chain = parse_pretrain_chain(p.image_init, p.scale);
  if (!chain) check_encoder_kind(p.image_init, "image", "--init");
  if (lidar_tower) check_encoder_kind(p.lidar_init, "lidar", "--lidar-init");
  PretrainCellSpec s;
  s.method = p.method;
  s.protocol = p.name;
  s.scale = p.scale;
  s.fingerprint = p.fingerprint();
  s.variant = method.variant_name(p);
  s.image_init = p.image_init;
  if (chain) {  // chained: the identity of the exporting cell (its id covers what decides the bytes), as finetune's
    PretrainOptions src;
    src.protocol = chain->protocol.name;
    src.seed = o.seed.value_or(p.seeds.front());
    s.image_init_sha256 = chained_init_identity(pretrain_cell_spec(chain->protocol, src, data), chain->epoch);
  } else {
    s.image_init_sha256 = init_sha256(p.image_init);
  }
  s.lidar_init = p.lidar_init;
  s.lidar_init_sha256 = init_sha256(p.lidar_init);
  s.seed = o.seed.value_or(p.seeds.front());
  s.datasets = data.manifest_hashes();
  s.recipe = p.recipe_json();
  if (o.world > 1)
    s.distributed = {{"world_size", o.world},
                     {"negatives", o.negatives},
                     {"negatives_per_query", negatives_per_query(p.batch_size, o.world, o.negatives)},
                     {"rows_per_rank", p.batch_size / o.world},
                     {"grad_sync", "all-reduce sum / world size after every backward, 25 MB buckets"},
                     {"bn_buffers", "rank 0's, broadcast to every rank after every step"}};
  return s;
}

fs::path run_pretrain_cell(const PretrainProtocol& p, const PretrainOptions& o, const PretrainData& data,
                           const PretrainCellSpec& spec, dist::Comm* comm) {
  const fs::path dir = o.out / p.name / spec.id();
  const int threads = resolve_threads(o.threads);
  const int world = comm ? comm->world() : 1, rank = comm ? comm->rank() : 0;
  CellRunSettings rs;
  rs.command = o.command_line;
  rs.device = o.device;
  rs.threads = threads;
  rs.force = o.force;
  rs.wait = o.wait;
  rs.executor = o.executor;
  rs.writer = rank == 0;  // data parallel: only rank 0 touches the bundle
  CellLifecycle cell(Bundle(dir), "pretrain", spec.id(), rs);
  bool done = false;
  if (world == 1) {
    done = cell.claim();
  } else {  // rank 0 claims and decides; the others learn whether to train (or that rank 0 failed)
    dist::root_first(*comm, "claiming the cell", [&] { done = cell.claim(); });
    auto skip = torch::tensor({done ? int64_t{1} : int64_t{0}}, torch::kInt64).to(comm->device());
    comm->broadcast(skip, 0);
    done = skip.cpu().item<int64_t>() == 1;
  }
  if (done) return dir;
  torch::set_num_threads(threads);
  const torch::Device device = comm && comm->backend() == "nccl" ? comm->device()
                                                                 : torch::Device(o.device == "cuda" ? torch::kCUDA
                                                                                                    : torch::kCPU);
  CellStart st;
  st.spec = spec.to_json();
  st.rerun = rerun_command(p, o, spec, threads);
  st.datasets = spec.datasets;
  st.weights_sha256 = {{"image", spec.image_init_sha256}, {"lidar", spec.lidar_init_sha256}};
  st.seed = spec.seed;
  st.fingerprint = spec.fingerprint;
  st.extra["method"] = p.method;
  const auto from = chained_export(spec.image_init_sha256, o.out);
  if (from) {  // the chaining method: the exporting bundle must be finished; both bundles record the link
    if (!fs::exists(from->file))
      fail("--init {}: its encoder {} does not exist yet; run `clcp-bench pretrain --protocol {} --scale {} --seed {}` "
           "with the same --out first", spec.image_init, from->file.string(), from->bundle.parent_path().filename().string(),
           p.scale, spec.seed);
    st.extra["chained_from"] = {{"init", spec.image_init},
                                {"bundle", from->bundle.string()},
                                {"file", from->file.string()},
                                {"sha256", sha256_file(from->file)}};
  }
  if (!p.overrides.empty()) st.extra["set"] = override_strings(p.overrides);
  if (world > 1)
    st.extra["distributed"] = {{"world_size", world},
                               {"backend", comm->backend()},
                               {"negatives", o.negatives},
                               {"launcher", std::getenv(dist::kStoreEnv) ? "clcp-bench --nproc" : dist::rank_env().source}};
  st.stage = "pretrain";
  cell.start(st);
  const bool writer = rs.writer;
  cell.run([&] {
    const MethodInfo& info = find_method(p.method);
    MethodBuild mb;
    mb.protocol = &p;
    mb.data = &data;
    mb.seed = static_cast<uint64_t>(spec.seed);
    mb.image_init = spec.image_init;
    if (const auto from = chained_export(spec.image_init_sha256, o.out)) mb.image_init = "file:" + from->file.string();
    mb.lidar_init = spec.lidar_init;
    mb.loader_threads = std::max(1, threads - 1);
    mb.world = world;
    mb.rank = rank;
    mb.negatives = o.negatives;
    const std::unique_ptr<PretrainMethod> method = info.build(mb);
    const int64_t rows = p.batch_size / world;
    PretrainConfig cfg;
    cfg.epochs = p.epochs;
    cfg.batch_size = p.batch_size;
    cfg.schedule = {p.lr, p.warmup_epochs, p.warmup_start_lr, p.t_0, p.t_mult, p.eta_min};
    cfg.weight_decay = p.weight_decay;
    cfg.beta1 = p.beta1;
    cfg.beta2 = p.beta2;
    cfg.eps = p.eps;
    cfg.keep_epochs = p.keep_epochs;
    cfg.seed = static_cast<uint64_t>(spec.seed);
    cfg.fingerprint = spec.fingerprint;
    cfg.threads = threads;
    cfg.cell_id = spec.id();
    cfg.device = device;
    cfg.precision = parse_precision(p.precision, p.file.string() + ": train.precision");
    cfg.stop = &stop_requested();
    cfg.comm = comm;
    install_stop_handlers();
    spdlog::info("pretrain {}: {} epochs x {} train batches of {} {}, {} val batches ({})", spec.id(), p.epochs,
                 method->train_batches(), p.batch_size, method->sample_unit(), method->val_batches(), dir.string());
    if (world > 1)
      spdlog::info("pretrain {}: data parallel over {} ranks ({}), {} pairs per rank and step, {} negatives ({} per "
                   "query)",
                   spec.id(), world, comm->backend(), rows, o.negatives,
                   negatives_per_query(p.batch_size, world, o.negatives));
    std::optional<ProgressLine> line;
    if (writer) line.emplace("pretrain " + spec.variant, p.epochs * method->train_batches());
    const PretrainResult r = pretrain(*method, cfg, dir, [&](const PretrainProgress& pr) {
      if (!line) return;
      line->update(pr.epoch * pr.steps_per_epoch + pr.step_in_epoch,
                   {{"epoch", fmt::format("{}", pr.epoch)},
                    {"loss", fmt::format("{:.3f}", pr.loss)},
                    {"lr", fmt::format("{:.2e}", pr.lr)}},
                   pr.samples_per_s * world, pr.eta_s);
    });
    if (line) line->finish();
    if (!r.completed)
      throw Interrupted(fmt::format("pretrain {}: interrupted during epoch {}; epoch checkpoints kept in {}; run the "
                                    "same command again to resume",
                                    spec.id(), r.epochs_done, (dir / "checkpoints").string()),
                        stop_signal());
    if (!writer) return;
    const json metrics = summarise(dir, spec, p);
    cell.provenance()["pretrain"] = {{"epochs", r.epochs_done},
                                     {"resumed_from", r.resumed_from},
                                     {method->sample_unit() + "_per_s", r.samples_per_s}};
    cell.finish(metrics);
    if (from) link_chained_into(from->bundle, p.name, spec.id(), dir);
    spdlog::info("pretrain {}: {}", spec.id(), info.headline(metrics["final"]));
  });
  return dir;
}

}  // namespace clcp::cells
