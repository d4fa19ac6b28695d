// `clcp-bench eval --checkpoint FILE`: evaluates a finetuned Segmenter checkpoint (a clcp-bench iter_N.safetensors,
// keys backbone.* + decode_head.*, or an mmseg/mmpretrain iter_N.pth / its safetensors conversion, mapped by
// models/import/key_map.hpp map_segmenter) on a protocol's source eval split and target split, and writes an
// evaluation bundle (spec.json, provenance.json, evidence/, metrics.json, status.json) to OUT/<protocol>/eval-<sha12>/.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "models/import/import_weights.hpp"
#include "models/import/key_map.hpp"
#include "models/safetensors.hpp"
#include "models/state_dict.hpp"
#include "suite/cli/commands.hpp"
#include "suite/cli/run.hpp"
#include "suite/cli/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/results/provenance.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a finetuned checkpoint on Cityscapes val and ACDC val");
  auto o = std::make_shared<RunOptions>();
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
    o->threads = parse_threads(*threads_arg);
    const std::string scale = !o->scale.empty() ? o->scale : (o->data_root.empty() ? "smoke" : "full");
    const Protocol p = load_protocol(o->protocol, scale);
    if (!fs::is_regular_file(*checkpoint))
      fail("--checkpoint {}: file not found; pass a checkpoints/iter_N.safetensors of a result bundle", *checkpoint);
    const int threads = resolve_threads(o->threads);
    torch::set_num_threads(threads);
    const torch::Device device(o->device == "cuda" ? torch::kCUDA : torch::kCPU);
    const std::string sha = sha256_file(*checkpoint);
    const RunData data = read_run_data(p, o->data_root);
    Segmenter model = build_model(p, "random", 0, device);
    const auto mapped = map_segmenter(read_tensor_file(*checkpoint), p.img_size / 16, *checkpoint);
    const auto report = load_state_dict(*model, mapped.tensors, false);
    if (!report.ok())
      fail("--checkpoint {}: not a Segmenter ViT-S/16 checkpoint of this protocol ({} layout): {}", *checkpoint,
           mapped.layout, grouped_summary(report));
    spdlog::info("checkpoint: {} tensors from {} ({} layout{})", mapped.tensors.size(), *checkpoint, mapped.layout,
                 mapped.dropped.empty() ? "" : fmt::format(", {} keys dropped", mapped.dropped.size()));
    CellSpec spec;
    spec.protocol = p.name;
    spec.scale = p.scale;
    spec.fingerprint = p.fingerprint();
    spec.init = "checkpoint:" + fs::path(*checkpoint).filename().string();
    spec.init_sha256 = sha;
    spec.finetune_mode = "eval";
    spec.datasets = data.manifest_hashes;
    spec.datasets.erase("root");
    spec.recipe = p.recipe_json();
    Bundle b(o->out / p.name / ("eval-" + sha.substr(0, 12)));
    ensure_writable_dir(b.dir());
    b.write_spec(spec);
    nlohmann::json prov = collect_environment(o->device, threads);
    prov["command"] = command_line();
    prov["start"] = utc_now_iso();
    prov["weights_sha256"] = sha;
    b.write_status("running", "eval");
    nlohmann::json speed;
    nlohmann::json metrics = evaluate_model(model, p, data, b, device, speed);
    b.write_metrics(metrics);
    prov["eval"] = speed;
    prov["end"] = utc_now_iso();
    b.write_provenance(prov);
    b.write_status("done", "done");
    std::cout << b.metrics_path().string() << "\n";
  });
}

}  // namespace clcp::cli
