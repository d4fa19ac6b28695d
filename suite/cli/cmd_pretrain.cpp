// `clcp-bench pretrain`: one CLCP pretraining cell — A2D2 pairs, ViT-S/16 against MinkUNet34-W32, InfoNCE — into
// OUT/<protocol>/<cell-id>/, with every epoch's image encoder exported for finetuning (pretrain_cell.hpp).
// Data parallel: `--nproc N` starts N ranks of this same command on this machine (suite/dist/launch.hpp) and waits
// for them; a process started by torchrun or srun (RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS, rank_env.hpp) joins
// its group as the given rank.
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <iostream>

#include "models/import/registry.hpp"
#include "suite/cli/commands.hpp"
#include "suite/cells/pretrain_cell.hpp"
#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/dist/launch.hpp"
#include "suite/dist/rank_env.hpp"
#include "suite/protocol/overrides.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"

namespace clcp::cli {
using cells::PretrainOptions;

namespace {

// `--nproc N`: this command again as N local ranks, without --nproc; with --threads auto each rank gets an equal
// share of this process's CPUs (a rank's thread count is recorded, as for one process). Returns the exit code of the
// launch (0 when every rank passed).
int launch_ranks(int nproc, int threads_requested) {
  std::vector<std::string> args;
  const auto& given = arguments();
  for (size_t i = 0; i < given.size(); ++i) {
    if (given[i] == "--nproc" || given[i] == "--threads") {
      ++i;
      continue;
    }
    if (given[i].rfind("--nproc=", 0) == 0 || given[i].rfind("--threads=", 0) == 0) continue;
    args.push_back(given[i]);
  }
  args.push_back("--threads");
  args.push_back(
      std::to_string(threads_requested > 0 ? threads_requested : std::max(1, cells::resolve_threads(0) / nproc)));
  std::string tmpl = (std::filesystem::temp_directory_path() / "clcp-dist-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    fail("--nproc {}: could not create the rendezvous folder in {}; set TMPDIR to a writable folder", nproc,
         std::filesystem::temp_directory_path().string());
  const std::filesystem::path store_dir = tmpl;
  dist::LaunchOptions lo;
  lo.exe = dist::self_exe();
  lo.args = args;
  lo.nproc = nproc;
  lo.store_file = store_dir / "store";
  spdlog::info("pretrain: starting {} ranks on this machine (rendezvous {})", nproc, lo.store_file.string());
  const dist::LaunchResult r = dist::launch_local(lo);
  std::error_code ec;
  std::filesystem::remove_all(store_dir, ec);
  if (r.failed_rank < 0) return 0;
  if (r.exit_code == 130 || r.exit_code == 143) return r.exit_code;  // stopped by a signal: the ranks said so
  fail("pretrain --nproc {}: {} (its error is above); the other ranks were stopped", nproc, r.what);
}

}  // namespace

void add_pretrain(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "pretrain",
      "Pretrain the image encoder with the protocol's method (default: camera-lidar contrastive learning, CLCP, on "
      "A2D2 pairs; `clcp-bench methods` lists the others): writes a result bundle OUT/<protocol>/<cell-id>/ with "
      "per-epoch losses and the method's diagnostics (CLCP: temperature, gradient norms, retrieval Recall@K), epoch "
      "checkpoints and the exported encoders export/image_encoder_epochNN.safetensors (init names "
      "<method>-<variant>@epNN for `clcp-bench run`). A finished cell is not run again; an interrupted one resumes at its "
      "last epoch checkpoint with identical results.");
  auto o = std::make_shared<PretrainOptions>();
  auto head = std::make_shared<std::string>();
  auto lidar = std::make_shared<std::string>();
  auto seed = std::make_shared<int64_t>(-1);
  cmd->add_option("--protocol", o->protocol, "pretraining protocol (protocols/NAME.json)")->capture_default_str();
  cmd->add_option("--scale", o->scale, "full (the thesis's optimised b256 run; default with --data-root), naive, smoke "
                                       "(default on the embedded data) or ci");
  cmd->add_option("--head", *head, "lidar projection head: linear or mlp (default: the protocol's)");
  cmd->add_option("--lidar", *lidar, "lidar encoder: trainable or frozen (default: the protocol's)");
  cmd->add_flag("--augment", o->augment, "the thesis's image augmentations on train pairs");
  auto sets = std::make_shared<std::vector<std::string>>();
  auto precision = std::make_shared<std::string>();
  cmd->add_option("--precision", *precision,
                  "training precision: fp32 or bf16 (autocast around the method's forward and loss, fp32 master "
                  "weights; the same as --set train.precision=…; part of the fingerprint)");
  cmd->add_option("--set", *sets, "override a protocol key: --set KEY=VALUE, KEY dotted (train.epochs, model.head), "
                                  "VALUE JSON or a bare word; repeatable; part of the fingerprint")
      ->take_all();
  cmd->add_option("--seed", *seed, "seed (default: the protocol's first)");
  auto* init = cmd->add_option("--init", o->image_init,
                               "image encoder init: imagenet, random, a registry name, file:PATH, or another "
                               "pretraining's export <method>-<variant>@ep<NN> (chained)");
  cmd->add_option("--chain-from", o->image_init,
                  "start from another pretraining's exported image encoder, e.g. simclr-b16@ep7 (the thesis's "
                  "chaining method; the same as --init with that name; both bundles record the link)")
      ->excludes(init);
  cmd->add_option("--lidar-init", o->lidar_init, "lidar encoder init: minkunet34-semantickitti, random, file:PATH");
  cmd->add_option("--weights-dir", default_weights_lookup().weights_dir,
                  "folder holding the registry's weight files (default: $CLCP_WEIGHTS_DIR)");
  cmd->add_option("--data-root", o->data_root,
                  "folder holding a2d2/camera_lidar_semantic/ and a2d2/cams_lidars.json (or, for a protocol with "
                  "data.dataset \"images\", any folder of images); omitted: the embedded data in data/synth "
                  "(rendered on first use)");
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto nproc = std::make_shared<int>(0);
  cmd->add_option("--nproc", *nproc, "data-parallel pretraining with N processes on this machine (c10d Gloo on CPU, "
                                     "NCCL with --device cuda); torchrun/srun launches need no --nproc")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--negatives", o->negatives, "data parallel: local (per-rank InfoNCE over its B/N pairs, as the "
                                               "thesis's DDP) or global (embeddings gathered from every rank: B - 1 "
                                               "negatives per query, the one-process loss)")
      ->capture_default_str();
  auto threads = std::make_shared<std::string>("auto");
  cmd->add_option("--threads", *threads, "CPU threads for LibTorch: a count >= 1 or auto (default); results are "
                                         "bit-identical for the same count");
  cmd->add_option("--out", o->out, "results root")->capture_default_str();
  cmd->add_flag("--force", o->force, "re-run a finished cell (its bundle is replaced)");
  cmd->add_flag("--wait", o->wait, "when another process is running this cell, wait for it instead of stopping");
  cmd->callback([o, head, lidar, seed, threads, nproc, sets, precision] {
    o->threads = cells::parse_threads(*threads);
    if (!precision->empty()) o->set.emplace_back("train.precision", *precision);
    for (const auto& kv : *sets) o->set.push_back(parse_override(kv));
    o->command_line = command_line();
    if (!head->empty()) o->head = *head;
    if (!lidar->empty()) o->lidar_mode = *lidar;
    if (*seed >= 0) o->seed = *seed;
    if (o->negatives != "local" && o->negatives != "global")
      fail("--negatives {}: expected local (per-rank InfoNCE) or global (embeddings gathered from every rank)",
           o->negatives);
    const dist::RankEnv env = dist::rank_env();
    const PretrainProtocol p = cells::resolve_pretrain_protocol(*o);
    const int world = *nproc > 0 ? *nproc : env.world;
    if (*nproc > 0 && env.distributed())
      fail("--nproc {}: torchrun or srun already started this process as {}; drop --nproc", *nproc, env.describe());
    if (world > 1 && p.batch_size % world != 0)
      fail("pretrain: batch size {} does not split into {} equal per-rank parts; use a number of ranks that divides "
           "train.batch_size",
           p.batch_size, world);
    if (*nproc > 1) {
      const int code = launch_ranks(*nproc, o->threads);
      if (code != 0) throw Exit{code};
      return;
    }
    std::unique_ptr<dist::Comm> comm;
    if (env.distributed()) {
      dist::CommOptions co;
      co.backend = o->device == "cuda" ? "nccl" : "gloo";
      if (const char* store = std::getenv(dist::kStoreEnv); store && *store) co.file_store = store;
      comm = dist::connect(env, co);
      o->world = comm->world();
      if (comm->rank() != 0) spdlog::set_level(spdlog::level::warn);  // rank 0 reports for all
      spdlog::info("pretrain: joined as {} over {}", env.describe(), comm->backend());
    }
    cells::PlanContext ctx;
    ctx.comm = comm.get();
    const Plan plan = cells::make_pretrain_plan(*o, ctx);
    cells::dispatch_cell(plan, 0, ctx);
    if (comm && comm->rank() != 0) return;  // rank 0 names the bundle
    const fs::path dir = plan.bundle_dir(0);
    const PretrainCellSpec& spec = ctx.data.pretrain.begin()->second.spec;
    for (const auto e : p.keep_epochs)
      spdlog::info("encoder {}: {}", spec.encoder_name(e), encoder_export_path(dir, e).string());
    std::cout << dir.string() << "\n";
  });
}

}  // namespace clcp::cli
