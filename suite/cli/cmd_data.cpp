// `clcp-bench data synth`: renders the embedded default data (Cityscapes and ACDC layouts).
// `clcp-bench data check --data-root DIR`: reads the splits a protocol needs and prints counts and manifest hashes.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "suite/cli/commands.hpp"
#include "suite/data/acdc.hpp"
#include "suite/core/error.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/decode_check.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/manifest.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/train/progress.hpp"

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

  auto* check = data->add_subcommand(
      "check",
      "Read Cityscapes and ACDC under a root and print counts and content-hashed manifests; with --decode, decode "
      "every image and label with the training and evaluation checks and list every problem");
  struct CheckOpts {
    std::string root = "data/synth";
    bool decode = false;
    int threads = 0;
  };
  auto c = std::make_shared<CheckOpts>();
  check->add_option("--data-root", c->root, "folder holding cityscapes/ and acdc/ (default data/synth)");
  check->add_flag("--decode", c->decode,
                  "decode every file (a corrupt or truncated PNG, a label of the wrong size or with values that are "
                  "not trainIds/labelIds); exits 2 listing every problem");
  check->add_option("--threads", c->threads, "decoding threads (default: all cores)")->check(CLI::PositiveNumber);
  check->callback([c] {
    const std::filesystem::path r(c->root);
    const std::vector<Split> splits{read_cityscapes(r / "cityscapes", "train"), read_cityscapes(r / "cityscapes", "val"),
                                    read_acdc(r / "acdc", "val")};
    const auto t0 = std::chrono::steady_clock::now();
    HashCache& cache = default_hash_cache();
    for (const auto& split : splits)
      std::cout << fmt::format("{}/{}: {} images, manifest {}\n", split.dataset, split.name, split.records.size(),
                               manifest_hash(split, cache));
    std::cerr << fmt::format("data check: hashed {} files ({:.1f} MB) in {:.2f}s, {} answered by the hash cache {}\n",
                             cache.misses(), cache.bytes_hashed() / 1e6,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                             cache.hits(), cache.file().string());
    if (!c->decode) return;
    const int threads = c->threads > 0 ? c->threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    std::vector<std::string> problems;
    size_t images = 0;
    for (const auto& split : splits) {
      ProgressLine line(fmt::format("decode {}/{}", split.dataset, split.name),
                        std::max<int64_t>(1, static_cast<int64_t>(split.records.size())));
      const auto d0 = std::chrono::steady_clock::now();
      auto found = decode_check(split, threads, [&](size_t done, size_t total) {
        const double rate = done / std::max(1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count());
        line.update(static_cast<int64_t>(done), {}, rate, (total - done) / std::max(rate, 1e-9));
      });
      line.finish();
      images += split.records.size();
      problems.insert(problems.end(), found.begin(), found.end());
    }
    for (const auto& p : problems) std::cout << "problem: " << p << "\n";
    if (!problems.empty())
      fail("data check --decode: {} of {} images have a problem (listed above); re-download or regenerate those files",
           problems.size(), images);
    std::cout << fmt::format("data check --decode: all {} images and labels decode and pass the label checks\n", images);
  });
}

}  // namespace clcp::cli
