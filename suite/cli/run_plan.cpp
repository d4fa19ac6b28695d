#include "suite/cli/run_plan.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "models/safetensors.hpp"
#include "models/state_dict.hpp"
#include "suite/cli/cell_guard.hpp"
#include "suite/cli/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/core/signals.hpp"
#include "suite/data/acdc.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/loader.hpp"
#include "suite/data/manifest.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/report/render.hpp"
#include "suite/results/provenance.hpp"
#include "suite/train/adapters.hpp"
#include "suite/train/finetune.hpp"
#include "suite/train/progress.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int effective_threads(int requested) { return resolve_threads(requested); }  // threads.hpp

// A word as the shell reads it: quoted only when it holds characters the shell would interpret.
std::string shell_word(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@%") ==
                        std::string::npos)
    return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The command that re-runs exactly this cell (one init, mode and seed; the same threads, since results are
// bit-identical only for the same thread count), shown in reports next to the command that ran the whole grid.
std::string rerun_command(const Protocol& p, const CellSpec& spec, const RunOptions& o, int threads) {
  std::string cmd = fmt::format("clcp-bench run --protocol {} --scale {} --init {} --finetune {} --seed {} --threads {}",
                                shell_word(o.protocol), shell_word(p.scale), shell_word(spec.init),
                                shell_word(spec.finetune_mode), spec.seed, threads);
  if (!o.data_root.empty()) cmd += " --data-root " + shell_word(o.data_root.string());
  if (const auto& wd = default_weights_lookup().weights_dir; !wd.empty()) cmd += " --weights-dir " + shell_word(wd);
  if (o.device != "cpu") cmd += " --device " + shell_word(o.device);
  if (o.out != "results") cmd += " --out " + shell_word(o.out.string());
  return cmd + " --force";
}

}  // namespace

RunData read_run_data(const Protocol& p, const fs::path& data_root) {
  fs::path root = data_root;
  if (root.empty()) {
    root = "data/synth";
    if (!fs::exists(root / "SYNTH.json")) {
      spdlog::info("data: no --data-root given and {} does not exist yet; rendering the embedded default data there",
                   root.string());
      synth::SynthOptions so;
      so.out = root;
      const auto s = synth::generate(so);
      spdlog::info("data: rendered {} files in {:.1f}s", s.files_written, s.wall_seconds);
    }
  }
  if (!fs::is_directory(root))
    fail("{}: data root not found; pass --data-root DIR holding cityscapes/ and acdc/ (or omit it for the embedded "
         "data)",
         root.string());
  RunData d;
  d.source_train = read_cityscapes(root / "cityscapes", p.source_train_split);
  d.source_eval = read_cityscapes(root / "cityscapes", p.source_eval_split);
  d.target = read_acdc(root / "acdc", p.target_split, p.target_conditions);
  d.manifest_hashes = {{"source_train", manifest_hash(d.source_train)},
                       {"source_eval", manifest_hash(d.source_eval)},
                       {"target", manifest_hash(d.target)},
                       {"root", fs::absolute(root).lexically_normal().string()}};
  spdlog::info("data: {} — cityscapes {} {} images, {} {} images; acdc {} {} images", root.string(),
               p.source_train_split, d.source_train.records.size(), p.source_eval_split, d.source_eval.records.size(),
               p.target_split, d.target.records.size());
  return d;
}

std::string init_sha256(const std::string& init) {
  // Registry names, file:PATH and plain paths resolve to a local file (models/import/registry.hpp); nothing is
  // downloaded. A registry sha256 that is known must match.
  const ResolvedInit r = resolve_init(init, default_weights_lookup());
  if (r.random) return "";
  check_weights_format(r.path);  // a PNG, JSON or empty file is named as such before any data is read
  const std::string sha = sha256_file(r.path);
  if (r.entry && r.entry->sha256 && *r.entry->sha256 != sha)
    fail("--init {}: {} has sha256 {}, the registry expects {}; it is not the published file ({})", init,
         r.path.string(), sha, *r.entry->sha256, r.entry->obtain);
  return sha;
}

Segmenter build_model(const Protocol& p, const std::string& init, int64_t seed, torch::Device device) {
  SegmenterOptions so;
  so.num_classes = p.num_classes;
  so.img_size = p.img_size;
  so.backbone_drop_path_rate = p.backbone_drop_path_rate;
  so.head_drop_path_rate = p.head_drop_path_rate;
  Segmenter model(so);
  model->init_weights(static_cast<uint64_t>(seed));
  const ResolvedInit resolved = resolve_init(init, default_weights_lookup());
  if (!resolved.random) {
    // Preflight: read, map the file's layout onto timm names, check every key/shape/value by group, then copy.
    const auto w = import_vit_weights(resolved.path, p.img_size / 16);
    load_vit_checked(*model->backbone, w.mapped, resolved.path.string());
    spdlog::info("weights: {} — {} backbone tensors from {} ({}, {} layout{}{})", init, w.mapped.tensors.size(),
                 resolved.path.string(), w.file.container, w.mapped.layout,
                 w.mapped.dropped.empty() ? "" : fmt::format(", {} keys dropped", w.mapped.dropped.size()),
                 w.mapped.notes.empty() ? "" : fmt::format("; {}", fmt::join(w.mapped.notes, "; ")));
  } else {
    spdlog::info("weights: random initialisation (timm/mmseg schemes) from seed {}", seed);
  }
  model->to(device);
  // Preflight: one forward with the protocol's input size must give [1, K, 14, 14] finite logits.
  {
    torch::NoGradGuard ng;
    model->eval();
    const auto logits = model->forward(torch::zeros({1, 3, p.img_size, p.img_size}, torch::TensorOptions(device)));
    const std::vector<int64_t> want{1, p.num_classes, p.img_size / 16, p.img_size / 16};
    if (logits.sizes().vec() != want || !torch::isfinite(logits).all().item<bool>())
      fail("--init {}: preflight forward gave logits {} (finite: {}), expected [1,{},{},{}]; the weights are unusable",
           init, fmt::format("{}", fmt::join(logits.sizes().vec(), ",")), torch::isfinite(logits).all().item<bool>(),
           p.num_classes, p.img_size / 16, p.img_size / 16);
    model->train();
  }
  return model;
}

bool run_cell(const Protocol& p, const RunData& data, const CellSpec& spec, const RunOptions& o) {
  Bundle b = Bundle::for_cell(o.out, spec);
  const CellLock lock = claim_cell(b, o.command_line, o.wait);  // one owner per cell; a dead owner → interrupted
  if (b.done() && !o.force) {
    check_reusable(b, effective_threads(o.threads));  // verifies, and the same thread count
    spdlog::info("cell {}: already done ({}); not training again (use --force to re-run)", spec.id(), b.dir().string());
    return false;
  }
  if (o.force && fs::exists(b.dir())) fs::remove_all(b.dir());
  ensure_writable_dir(b.dir());
  const bool resuming = fs::exists(b.checkpoints_dir() / "latest.json");
  spdlog::info("cell {}: {} ({})", spec.id(), resuming ? "resuming from its last checkpoint" : "starting",
               b.dir().string());
  b.write_spec(spec);
  const torch::Device device(o.device == "cuda" ? torch::kCUDA : torch::kCPU);
  const int threads = effective_threads(o.threads);
  json prov = collect_environment(o.device, threads);
  prov["command"] = o.command_line;
  prov["rerun"] = rerun_command(p, spec, o, threads);
  prov["start"] = utc_now_iso();
  prov["end"] = nullptr;
  prov["datasets"] = spec.datasets;
  prov["weights_sha256"] = spec.init_sha256;
  prov["seed"] = spec.seed;
  prov["fingerprint"] = spec.fingerprint;
  b.write_provenance(prov);
  const auto t0 = std::chrono::steady_clock::now();
  std::string stage = "finetune";
  try {
    b.write_status("running", stage);
    Segmenter model = build_model(p, spec.init, spec.seed, device);

    TrainPipelineOptions tp;
    tp.scale_w = static_cast<int>(p.pipeline.resize_scale[0]);
    tp.scale_h = static_cast<int>(p.pipeline.resize_scale[1]);
    tp.ratio_min = p.pipeline.ratio_range[0];
    tp.ratio_max = p.pipeline.ratio_range[1];
    tp.crop_h = static_cast<int>(p.pipeline.crop[0]);
    tp.crop_w = static_cast<int>(p.pipeline.crop[1]);
    tp.cat_max_ratio = p.pipeline.cat_max_ratio;
    tp.ignore_index = static_cast<int>(p.ignore_index);
    tp.flip_prob = p.pipeline.flip_prob;
    tp.photometric = p.pipeline.photometric;
    for (int c = 0; c < 3; ++c) {
      tp.mean_rgb[c] = static_cast<float>(p.pipeline.mean[c]);
      tp.std_rgb[c] = static_cast<float>(p.pipeline.std[c]);
    }
    TrainLoader loader(data.source_train, tp, static_cast<uint64_t>(spec.seed), p.batch_size, std::max(1, threads - 1),
                       2);
    loader.set_end(static_cast<uint64_t>(p.max_iters));  // no prefetch (and no unseen decode failure) past the end

    const TrainableModel tm = segmenter_trainable(model, static_cast<uint64_t>(spec.seed));
    FinetuneConfig cfg;
    cfg.max_iters = p.max_iters;
    cfg.batch_size = p.batch_size;
    cfg.lr = p.lr;
    cfg.momentum = p.momentum;
    cfg.weight_decay = p.weight_decay;
    cfg.eta_min = p.eta_min;
    cfg.power = p.poly_power;
    cfg.checkpoint_interval = p.checkpoint_interval;
    cfg.log_interval = p.log_interval;
    cfg.mode = spec.finetune_mode;
    cfg.seed = static_cast<uint64_t>(spec.seed);
    cfg.device = device;
    cfg.ignore_index = p.ignore_index;
    cfg.stop = &stop_requested();
    cfg.threads = threads;
    ProgressLine train_line("finetune " + spec.label(), p.max_iters);
    const auto train_t0 = std::chrono::steady_clock::now();
    double train_images_per_s = 0;
    const FinetuneResult fr = finetune(
        tm,
        [&](uint64_t t) {
          Batch batch = loader.batch(t);
          return TrainBatch{batch.images.to(device), batch.labels.to(device)};
        },
        cfg, b.dir(), [&](const TrainProgress& pr) {
          train_images_per_s = pr.images_per_s;
          train_line.update(pr.iter, {{"loss", fmt::format("{:.4f}", pr.loss)}, {"lr", fmt::format("{:.2e}", pr.lr)}},
                            pr.images_per_s, pr.eta_s);
        });
    train_line.finish();
    if (!fr.completed)
      throw Interrupted(fmt::format("cell {}: interrupted after iteration {}; checkpoint kept at {}; run the same "
                                    "command again to resume",
                                    spec.id(), fr.iterations_done, fr.last_checkpoint.weights.string()),
                        stop_signal());
    prov["train"] = {{"iterations", fr.iterations_done},
                     {"resumed_from", fr.resumed_from},
                     {"images_per_s", train_images_per_s},
                     {"wall_s", seconds_since(train_t0)}};

    stage = "eval";
    b.write_status("running", stage);
    json eval_speed;
    json metrics = evaluate_model(model, p, data, b, device, eval_speed);
    metrics["cell_id"] = spec.id();
    metrics["fingerprint"] = spec.fingerprint;
    b.write_metrics(metrics);
    prov["eval"] = eval_speed;
    prov["end"] = utc_now_iso();
    prov["wall_s"] = seconds_since(t0);
    b.write_provenance(prov);
    b.write_status("done", "done");
    auto pct = [](const json& v) { return v.is_number() ? fmt::format("{:.2f}", v.get<double>() * 100) : "n/a"; };
    spdlog::info("cell {}: mIoU Cityscapes {} | mIoU ACDC {} | rPD {}", spec.id(), pct(metrics["source"]["mIoU"]),
                 pct(metrics["target"]["pooled"]["mIoU"]),
                 metrics["rPD"].is_number() ? fmt::format("{:.3f}", metrics["rPD"].get<double>()) : "n/a");
  } catch (const Interrupted& e) {
    record_end(b, "interrupted", stage, e.what());
    throw;
  } catch (const UserError& e) {
    record_end(b, "failed", stage, e.what());  // a failing status write (full disk) never hides this error
    throw;
  }
  return true;
}

fs::path run_protocol(const RunOptions& o) {
  const bool embedded = o.data_root.empty();
  const std::string scale = !o.scale.empty() ? o.scale : (embedded ? "smoke" : "full");
  Protocol p = load_protocol(o.protocol, scale);
  if (!o.inits.empty()) p.inits = o.inits;
  if (!o.finetune_modes.empty()) p.finetune_modes = o.finetune_modes;
  if (!o.seeds.empty()) p.seeds = o.seeds;
  for (const auto& m : p.finetune_modes)
    if (m != "full" && m != "frozen") fail("--finetune {}: expected 'full' or 'frozen'", m);
  if (o.device == "cuda" && !torch::cuda::is_available())
    fail("--device cuda: no CUDA device is visible to LibTorch; use --device cpu or check the driver");
  if (o.device != "cpu" && o.device != "cuda") fail("--device {}: expected 'cpu' or 'cuda'", o.device);
  const int threads = effective_threads(o.threads);
  torch::set_num_threads(threads);
  ensure_writable_dir(o.out);
  spdlog::info("plan: protocol {} scale {} fingerprint {} — {} init(s) x {} mode(s) x {} seed(s), {} iterations at "
               "batch {}",
               p.name, p.scale, p.fingerprint(), p.inits.size(), p.finetune_modes.size(), p.seeds.size(), p.max_iters,
               p.batch_size);
  // Inits are checked before any data is read or any cell starts.
  std::map<std::string, std::string> sha;
  for (const auto& init : p.inits) sha[init] = init_sha256(init);
  const RunData data = read_run_data(p, o.data_root);

  const fs::path plan_dir = o.out / p.name;
  json plan = p.to_json();
  plan["cells"] = json::array();
  std::vector<CellSpec> cells;
  for (const auto& init : p.inits)
    for (const auto& mode : p.finetune_modes)
      for (const auto seed : p.seeds) {
        CellSpec c;
        c.protocol = p.name;
        c.scale = p.scale;
        c.fingerprint = p.fingerprint();
        c.init = init;
        c.init_sha256 = sha[init];
        c.finetune_mode = mode;
        c.seed = seed;
        c.datasets = data.manifest_hashes;
        c.datasets.erase("root");
        c.recipe = p.recipe_json();
        plan["cells"].push_back(c.id());
        cells.push_back(c);
      }
  write_json_atomic(plan_dir / fmt::format("plan-{}-{}.json", p.scale, p.fingerprint()), plan);

  install_stop_handlers();  // SIGINT and SIGTERM: checkpoint, "interrupted", exit 128 + signal
  std::vector<fs::path> bundles;
  std::exception_ptr first_error;
  for (const auto& c : cells) {
    bundles.push_back(Bundle::for_cell(o.out, c).dir());
    try {
      run_cell(p, data, c, o);
    } catch (const UserError&) {
      first_error = std::current_exception();
      break;  // finished cells stay; the report below lists this one as failed
    }
  }
  const fs::path report_dir = plan_dir / fmt::format("report-{}", p.scale);
  try {
    write_report(build_report_model(bundles, fmt::format("clcp-bench: {} ({} scale)", p.name, p.scale)), report_dir);
  } catch (const UserError& e) {
    if (!first_error) throw;
    spdlog::warn("note: the report was not written ({})", e.what());  // the cell's error below is what matters
  }
  if (first_error) std::rethrow_exception(first_error);
  return report_dir;
}

}  // namespace clcp::cli
