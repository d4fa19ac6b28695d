// `clcp-bench pretrain`: one CLCP pretraining cell — A2D2 pairs, ViT-S/16 against MinkUNet34-W32, InfoNCE — into
// OUT/<protocol>/<cell-id>/, with every epoch's image encoder exported for finetuning (pretrain_cell.hpp).
#include <spdlog/spdlog.h>

#include <iostream>

#include "models/import/registry.hpp"
#include "suite/cli/commands.hpp"
#include "suite/cli/pretrain_cell.hpp"
#include "suite/cli/threads.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"

namespace clcp::cli {

void add_pretrain(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "pretrain",
      "Pretrain the image encoder by camera-lidar contrastive learning (CLCP) on A2D2 pairs: writes a result bundle "
      "OUT/<protocol>/<cell-id>/ with per-epoch losses, temperature, gradient norms and retrieval Recall@K, epoch "
      "checkpoints and the exported encoders export/image_encoder_epochNN.safetensors (init names "
      "clcp-<variant>@epNN for `clcp-bench run`). A finished cell is not run again; an interrupted one resumes at its "
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
  cmd->add_option("--seed", *seed, "seed (default: the protocol's first)");
  cmd->add_option("--init", o->image_init, "image encoder init: imagenet, random, a registry name, file:PATH");
  cmd->add_option("--lidar-init", o->lidar_init, "lidar encoder init: minkunet34-semantickitti, random, file:PATH");
  cmd->add_option("--weights-dir", default_weights_lookup().weights_dir,
                  "folder holding the registry's weight files (default: $CLCP_WEIGHTS_DIR)");
  cmd->add_option("--data-root", o->data_root,
                  "folder holding a2d2/camera_lidar_semantic/ and a2d2/cams_lidars.json; omitted: the embedded data "
                  "in data/synth (rendered on first use)");
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto threads = std::make_shared<std::string>("auto");
  cmd->add_option("--threads", *threads, "CPU threads for LibTorch: a count >= 1 or auto (default); results are "
                                         "bit-identical for the same count");
  cmd->add_option("--out", o->out, "results root")->capture_default_str();
  cmd->add_flag("--force", o->force, "re-run a finished cell (its bundle is replaced)");
  cmd->add_flag("--wait", o->wait, "when another process is running this cell, wait for it instead of stopping");
  cmd->callback([o, head, lidar, seed, threads] {
    o->threads = parse_threads(*threads);
    o->command_line = command_line();
    if (!head->empty()) o->head = *head;
    if (!lidar->empty()) o->lidar_mode = *lidar;
    if (*seed >= 0) o->seed = *seed;
    const PretrainProtocol p = resolve_pretrain_protocol(*o);
    const A2D2Dataset data = read_pretrain_data(p, o->data_root);
    const PretrainCellSpec spec = pretrain_cell_spec(p, *o, data);
    const auto dir = run_pretrain_cell(p, *o, data, spec);
    for (const auto e : p.keep_epochs)
      spdlog::info("encoder {}: {}", spec.encoder_name(e), encoder_export_path(dir, e).string());
    std::cout << dir.string() << "\n";
  });
}

}  // namespace clcp::cli
