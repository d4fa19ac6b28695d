// `clcp-bench weights`: what a weights file is and where the registry's inits are expected.
//   weights inspect FILE   format, detected key layout, key groups with shapes, parameter count, sha256, the registry
//                          init it matches and whether it loads into ViT-S/16 — or, for a lidar checkpoint, into
//                          MinkUNet34-W32 (models/lidar/import_minkunet.hpp)
//   weights list           the registry's inits and the file each resolves to (or the hint where to put it)
#include <fmt/format.h>

#include <iostream>

#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "models/lidar/import_minkunet.hpp"
#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"

namespace clcp::cli {

void add_weights(CLI::App& app) {
  auto* cmd = app.add_subcommand("weights", "Inspect encoder weight files and list the known inits (nothing is "
                                            "downloaded)");
  cmd->require_subcommand(1);
  auto* inspect = cmd->add_subcommand(
      "inspect", "Show a weights file's format, key layout (timm, liploc, clcp-lightning, mmseg-vit, …, or the "
                 "MinkUNet lidar layouts mmdet3d-minkunet, clcp-lightning, minkunet), key groups with shapes, "
                 "parameter count, sha256 and the registry init it matches");
  auto file = std::make_shared<std::string>();
  inspect->add_option("FILE", *file, ".safetensors or torch.save .pth/.ckpt")->required();
  inspect->callback([file] {
    // A CLCP Lightning checkpoint holds both towers: it is inspected as the image encoder it is used as.
    const auto tensors = read_checkpoint(*file).tensors;
    const bool lidar = lidar::looks_like_minkunet(tensors) && !tensors.count("image_encoder.model.cls_token");
    const auto lines = lidar ? lidar::inspect_minkunet(*file, default_registry_path())
                             : inspect_weights(*file, default_registry_path());
    for (const auto& line : lines) std::cout << line << "\n";
  });
  auto* list = cmd->add_subcommand("list", "List the registry's inits (models/registry.json) and where each is found");
  list->add_option("--weights-dir", default_weights_lookup().weights_dir,
                   "folder holding weight files under the registry's file names (default: $CLCP_WEIGHTS_DIR)");
  list->callback([] {
    for (const auto& e : load_registry()) {
      std::string where;
      try {
        where = resolve_init(e.name, default_weights_lookup()).path.string();
      } catch (const UserError& err) {
        where = err.what();
      }
      std::cout << fmt::format("{}: {}{}\n  sha256: {}\n  file: {}\n", e.name, e.description,
                               e.released ? "" : " [never released]", e.sha256.value_or("unknown"), where);
    }
  });
}

}  // namespace clcp::cli
