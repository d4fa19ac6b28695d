// `clcp-bench data synth`: renders the embedded default data (Cityscapes and ACDC layouts).
// `clcp-bench data check --data-root DIR`: reads the splits a protocol needs and prints counts and manifest hashes.
#include <fmt/format.h>

#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/data/acdc.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/manifest.hpp"
#include "suite/data/synth/synth.hpp"

namespace clcp::cli {

void add_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Generate the embedded default data, or check a dataset root");
  data->require_subcommand(1);

  auto* synth = data->add_subcommand(
      "synth",
      "Render the procedural street world into the Cityscapes and ACDC layouts (deterministic: same seed and options "
      "give byte-identical files)");
  auto o = std::make_shared<synth::SynthOptions>();
  o->out = "data/synth";
  synth->add_option("--out", o->out, "output folder (default data/synth)");
  synth->add_option("--seed", o->seed, "world seed (default 0)");
  synth->add_option("--width", o->width, "image width in pixels (default 512)");
  synth->add_option("--height", o->height, "image height in pixels (default 256)");
  synth->add_option("--train-images", o->train_images, "Cityscapes train images (default 96)");
  synth->add_option("--val-images", o->val_images, "Cityscapes val images (default 24)");
  synth->add_option("--acdc-per-condition", o->acdc_val_per_condition, "ACDC val images per condition (default 12)");
  synth->add_option("--severity", o->severity, "adverse-condition strength 0..3 (default 1)");
  synth->add_option("--threads", o->threads, "worker threads (never changes the output)");
  synth->callback([o] {
    std::cerr << fmt::format("data synth: rendering {}x{} frames into {} (seed {})\n", o->width, o->height,
                             o->out.string(), o->seed);
    const auto s = synth::generate(*o);
    std::cerr << fmt::format(
        "data synth: wrote {} files in {:.1f}s: cityscapes train {}, val {}; acdc val {} per condition x 4\n",
        s.files_written, s.wall_seconds, s.cityscapes_train, s.cityscapes_val, s.acdc_per_condition);
    std::cout << o->out.string() << "\n";
  });

  auto* check = data->add_subcommand("check", "Read Cityscapes and ACDC under a root and print counts and hashes");
  auto root = std::make_shared<std::string>("data/synth");
  check->add_option("--data-root", *root, "folder holding cityscapes/ and acdc/ (default data/synth)");
  check->callback([root] {
    const std::filesystem::path r(*root);
    for (const auto& split : {read_cityscapes(r / "cityscapes", "train"), read_cityscapes(r / "cityscapes", "val"),
                              read_acdc(r / "acdc", "val")})
      std::cout << fmt::format("{}/{}: {} images, manifest {}\n", split.dataset, split.name, split.records.size(),
                               manifest_hash(split));
  });
}

}  // namespace clcp::cli
