// `clcp-bench data synth`: renders the embedded default data (Cityscapes, ACDC and A2D2 layouts).
// `clcp-bench data check --data-root DIR [--dataset a2d2]`: reads the splits a protocol needs (or the A2D2 pairs) and
// prints counts and manifest hashes.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/a2d2_manifest.hpp"
#include "suite/data/acdc.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/decode_check.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/manifest.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/train/progress.hpp"

namespace clcp::cli {

namespace {

// --data-root for a2d2: the camera_lidar_semantic folder itself, or a folder holding it (directly or under a2d2/,
// as `data synth` writes it).
std::filesystem::path a2d2_root(const std::filesystem::path& r) {
  std::error_code ec;
  for (const auto& c : {r / "a2d2" / "camera_lidar_semantic", r / "camera_lidar_semantic"})
    if (std::filesystem::is_directory(c, ec)) return c;
  return r;
}

void print_a2d2(const std::filesystem::path& root, const std::string& cams, double val_ratio) {
  A2D2Options o;
  o.val_ratio = val_ratio;
  o.cams_lidars = cams;
  const A2D2Dataset d = read_a2d2(root, o);
  for (const auto& w : d.warnings) std::cerr << "warning: " << w << "\n";
  const nlohmann::json m = a2d2_manifest(d);
  std::cout << fmt::format("a2d2: {} (front_center {}x{}, {} lens, calibration {})\n", d.root.string(),
                           d.camera.width, d.camera.height, d.camera.lens, d.camera.source.string());
  std::cout << fmt::format("scenes: {}\n", d.scenes.size());
  for (const auto& s : m["scenes"])
    std::cout << fmt::format("  {}: {} pairs (train {}, val {})\n", s["scene"].get<std::string>(),
                             s["pairs"].get<size_t>(), s["train"].get<size_t>(), s["val"].get<size_t>());
  std::cout << fmt::format("pairs: {} (train {}, val {}; the last floor(n*{}) pairs of each scene are val)\n",
                           d.pairs.size(), d.train.size(), d.val.size(), d.val_ratio);
  std::cout << fmt::format("skipped: {}\n", d.skipped.size());
  for (const auto& s : d.skipped)
    std::cout << fmt::format("  {}: {}\n", s.file.lexically_relative(d.root).generic_string(), s.reason);
  std::cout << fmt::format("manifest {}\n", m["hash"].get<std::string>());
}

// "clear=0.6,fog=0.1" → shares in kA2D2Conditions order; unnamed conditions get 0.
std::array<double, 5> parse_condition_shares(const std::string& text) {
  std::array<double, 5> out{};
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    size_t c = 0;
    while (c < 5 && name != synth::kA2D2Conditions[c]) ++c;
    double v = -1;
    try {
      if (eq != std::string::npos) v = std::stod(item.substr(eq + 1));
    } catch (const std::exception&) {
      v = -1;
    }
    if (c == 5 || !(v >= 0))
      fail("--a2d2-conditions '{}': expected name=share pairs with names clear, fog, night, rain, snow and shares ≥ 0, "
           "e.g. clear=0.6,fog=0.1,night=0.1,rain=0.1,snow=0.1", text);
    out[c] = v;
  }
  return out;
}

}  // namespace

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
  synth->add_option("--a2d2-scenes", o->a2d2.scenes, "A2D2 scenes (drives) under a2d2/; 0 writes none (default 4)");
  synth->add_option("--a2d2-frames", o->a2d2.frames, "A2D2 camera/lidar pairs per scene (default 8)");
  synth->add_option("--a2d2-scale", o->a2d2.scale,
                    "A2D2 camera resolution as a share of 1920x1208 (default 0.5: 960x604, crop 448)");
  auto shares = std::make_shared<std::string>();
  synth->add_option("--a2d2-conditions", *shares,
                    "share of A2D2 frames per condition, e.g. clear=0.6,fog=0.1,night=0.1,rain=0.1,snow=0.1 (the "
                    "default; conditions left out get 0)");
  synth->callback([o, shares] {
    if (!shares->empty()) o->a2d2.condition_share = parse_condition_shares(*shares);
    std::cerr << fmt::format("data synth: rendering {}x{} frames into {} (seed {})\n", o->width, o->height,
                             o->out.string(), o->seed);
    const auto s = synth::generate(*o);
    std::cerr << fmt::format(
        "data synth: wrote {} files in {:.1f}s: cityscapes train {}, val {}; acdc val {} per condition x 4\n",
        s.files_written, s.wall_seconds, s.cityscapes_train, s.cityscapes_val, s.acdc_per_condition);
    if (s.a2d2_frames > 0)
      std::cerr << fmt::format("data synth: a2d2 {} pairs ({} lidar points, {:.1f} MB) in {:.1f}s of worker time\n",
                               s.a2d2_frames, s.a2d2_points, s.a2d2_bytes / 1e6, s.a2d2_seconds);
    std::cout << o->out.string() << "\n";
  });

  auto* check = data->add_subcommand(
      "check", "Read a dataset root and print counts and content-hashed manifests (default: Cityscapes and ACDC; "
               "--dataset a2d2: the A2D2 camera_lidar_semantic pairs, skipped files and split); with --decode, decode "
               "every Cityscapes/ACDC image and label with the training and evaluation checks and list every problem");
  struct CheckOpts {
    std::string root = "data/synth";
    std::string dataset = "cityscapes+acdc";
    std::string cams;
    double val_ratio = 0.15;
    bool decode = false;
    int threads = 0;
  };
  auto c = std::make_shared<CheckOpts>();
  check->add_option("--data-root", c->root,
                    "folder holding cityscapes/ and acdc/; for a2d2: the camera_lidar_semantic folder, or a folder "
                    "holding camera_lidar_semantic/ or a2d2/camera_lidar_semantic/ (default data/synth)");
  check->add_option("--dataset", c->dataset, "cityscapes+acdc (default), cityscapes, acdc or a2d2")
      ->check(CLI::IsMember({"cityscapes+acdc", "cityscapes", "acdc", "a2d2"}));
  check->add_option("--cams-lidars", c->cams,
                    "a2d2: the sensor calibration (default: <root>/cams_lidars.json, else <root>/../cams_lidars.json)");
  check->add_option("--val-ratio", c->val_ratio, "a2d2: share of each scene's last pairs that go to val (default 0.15)");
  check->add_flag("--decode", c->decode,
                  "decode every file (a corrupt or truncated PNG, a label of the wrong size or with values that are "
                  "not trainIds/labelIds); exits 2 listing every problem");
  check->add_option("--threads", c->threads, "decoding threads (default: all cores)")->check(CLI::PositiveNumber);
  check->callback([c] {
    const std::filesystem::path r(c->root);
    if (c->dataset == "a2d2") {
      print_a2d2(a2d2_root(r), c->cams, c->val_ratio);
      return;
    }
    std::vector<Split> splits;
    if (c->dataset != "acdc") {
      splits.push_back(read_cityscapes(r / "cityscapes", "train"));
      splits.push_back(read_cityscapes(r / "cityscapes", "val"));
    }
    if (c->dataset != "cityscapes") splits.push_back(read_acdc(r / "acdc", "val"));
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
