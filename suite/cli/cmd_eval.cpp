// `clcp-bench eval --checkpoint FILE`: evaluates a finetuned Segmenter checkpoint (a clcp-bench iter_N.safetensors,
// keys backbone.* + decode_head.*, or an mmseg/mmpretrain iter_N.pth / its safetensors conversion, mapped by
// models/import/key_map.hpp map_segmenter) on a protocol's source eval split and target split, and writes an
// evaluation bundle (spec.json, provenance.json, evidence/, metrics.json, status.json) to OUT/<protocol>/eval-<sha12>/.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/cli/commands.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a finetuned checkpoint on Cityscapes val and ACDC val");
  auto o = std::make_shared<cells::RunOptions>();
  auto checkpoint = std::make_shared<std::string>();
  cmd->add_option("--checkpoint", *checkpoint,
                  "finetuned model: clcp-bench iter_N.safetensors, or an mmseg/mmpretrain Segmenter iter_N.pth "
                  "(backbone.timm_model.* or mmseg ViT names + decode_head.*)")
      ->required();
  cmd->add_option("--protocol", o->protocol, "protocol whose eval splits and inference settings are used")
      ->capture_default_str();
  cmd->add_option("--scale", o->scale, "protocol scale (default: full with --data-root, smoke on the embedded data)");
  cmd->add_option("--data-root", o->data_root, "folder holding cityscapes/ and acdc/ (default: embedded data)");
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  auto threads_arg = std::make_shared<std::string>("auto");
  cmd->add_option("--threads", *threads_arg, "CPU threads: a count >= 1 or auto (default: the CPUs this process may use)");
  cmd->add_option("--out", o->out, "results root")->capture_default_str();
  cmd->callback([o, checkpoint, threads_arg] {
    o->threads = cells::parse_threads(*threads_arg);
    o->command_line = command_line();
    const fs::path bundle = cells::evaluate_checkpoint(*o, *checkpoint);
    std::cout << (bundle / "metrics.json").string() << "\n";
  });
}

}  // namespace clcp::cli
