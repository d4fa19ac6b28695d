// One cell end to end: weights → preflight → finetune → evaluate → bundle (spec, provenance, status, metrics).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "models/import/registry.hpp"
#include "models/precision.hpp"
#include "suite/cells/lifecycle.hpp"
#include "suite/cells/chain.hpp"
#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/results/integrity.hpp"
#include "suite/core/shell.hpp"
#include "suite/core/signals.hpp"
#include "suite/data/loader.hpp"
#include "suite/results/provenance.hpp"
#include "suite/train/adapters.hpp"
#include "suite/train/finetune.hpp"
#include "suite/train/progress.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The command that re-runs exactly this cell (one init, mode and seed; the same threads, since results are
// bit-identical only for the same thread count), shown in reports next to the command that ran the whole grid.
std::string rerun_command(const Protocol& p, const CellSpec& spec, const RunOptions& o, int threads) {
  std::string cmd = fmt::format("clcp-bench run --protocol {} --scale {} --init {} --finetune {} --seed {} --threads {}",
                                shell_word(o.protocol), shell_word(p.scale), shell_word(spec.init),
                                shell_word(spec.finetune_mode), spec.seed, threads);
  for (const auto& kv : override_strings(o.set)) cmd += " --set " + shell_word(kv);
  if (!o.data_root.empty()) cmd += " --data-root " + shell_word(o.data_root.string());
  if (const auto& wd = default_weights_lookup().weights_dir; !wd.empty()) cmd += " --weights-dir " + shell_word(wd);
  if (o.device != "cpu") cmd += " --device " + shell_word(o.device);
  if (o.out != "results") cmd += " --out " + shell_word(o.out.string());
  return cmd + " --force";
}

}  // namespace

int effective_threads(int requested) { return resolve_threads(requested); }  // threads.hpp

void install_stop_handler() { install_stop_handlers(); }  // SIGINT and SIGTERM: checkpoint, exit 128 + signal

bool run_cell(const Protocol& p, const RunData& data, const CellSpec& spec, const RunOptions& o) {
  const int threads = effective_threads(o.threads);
  CellRunSettings rs;
  rs.command = o.command_line;
  rs.device = o.device;
  rs.threads = threads;
  rs.force = o.force;
  rs.wait = o.wait;
  rs.executor = o.executor;
  CellLifecycle cell(Bundle::for_cell(o.out, spec), "cell", spec.id(), rs);
  if (cell.claim()) return false;  // finished, verified, same thread count
  CellStart st;
  st.spec = Bundle::spec_record(spec);
  st.rerun = rerun_command(p, spec, o, threads);
  st.datasets = spec.datasets;
  st.weights_sha256 = spec.init_sha256;
  st.seed = spec.seed;
  st.fingerprint = spec.fingerprint;
  st.stage = "finetune";
  cell.start(st);
  const Bundle& b = cell.bundle();
  json& prov = cell.provenance();
  const torch::Device device(o.device == "cuda" ? torch::kCUDA : torch::kCPU);
  cell.run([&] {
    std::string init = spec.init;
    if (const auto chained = chained_export(spec.init_sha256, o.out)) {
      // The init is a pretraining cell's exported encoder (chain.hpp): it must be finished and verify.
      if (!Bundle(chained->bundle).done())
        fail("--init {}: its pretraining cell {} has not finished; `clcp-bench run` with this protocol runs it first, "
             "or run `clcp-bench pretrain` for it (its spec is in the plan file)", spec.init,
             chained->bundle.string());
      require_verified(chained->bundle, false);
      init = "file:" + chained->file.string();
      prov["weights_sha256"] = sha256_file(chained->file);
      prov["init_file"] = chained->file.string();
      prov["pretrain_bundle"] = chained->bundle.string();
      cell.write_provenance();
    }
    Segmenter model = build_model(p, init, spec.seed, device);

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
    cfg.precision = parse_precision(p.precision, p.file.string() + ": train.precision");
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

    cell.stage("eval");
    json eval_speed;
    json metrics = evaluate_model(model, p, data, b, device, eval_speed);
    metrics["cell_id"] = spec.id();
    metrics["fingerprint"] = spec.fingerprint;
    prov["eval"] = eval_speed;
    cell.finish(metrics);
    auto pct = [](const json& v) { return v.is_number() ? fmt::format("{:.2f}", v.get<double>() * 100) : "n/a"; };
    spdlog::info("cell {}: mIoU Cityscapes {} | mIoU ACDC {} | rPD {}", spec.id(), pct(metrics["source"]["mIoU"]),
                 pct(metrics["target"]["pooled"]["mIoU"]),
                 metrics["rPD"].is_number() ? fmt::format("{:.3f}", metrics["rPD"].get<double>()) : "n/a");
  });
  return true;
}

}  // namespace clcp::cells
