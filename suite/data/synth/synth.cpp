// Driver of `clcp-bench data synth` (see synth.hpp): lays scenes out over the Cityscapes and ACDC trees, renders them
// on worker threads and writes PNGs with fixed encoder settings, then SYNTH.json.
#include "suite/data/synth/synth.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <vector>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/labels.hpp"
#include "suite/data/npz.hpp"
#include "suite/data/synth/a2d2_rig.hpp"
#include "suite/data/synth/render.hpp"
#include "suite/data/synth/scene.hpp"
#include "suite/data/synth/weather.hpp"

namespace clcp::synth {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kTrainCities = {"aachen", "bochum", "bremen"};
const std::vector<std::string> kValCities = {"frankfurt", "lindau"};
const std::vector<std::string> kConditions = {"fog", "night", "rain", "snow"};
// Two GoPro sequences per condition, named like ACDC's.
const std::vector<std::vector<std::string>> kSequences = {
    {"GOPR0475", "GOPR0477"}, {"GOPR0351", "GOPR0356"}, {"GOPR0400", "GOPR0402"}, {"GOPR0122", "GOPR0176"}};

struct Job {
  std::string domain;     // "cityscapes/train", "acdc/fog", …
  std::string style;      // city style name
  int index = 0;          // scene index within the domain
  int condition = -1;     // index into kConditions for ACDC, −1 for Cityscapes
  fs::path image, label_ids, label_train_ids, ref_image;  // ref_image only for ACDC
  // A2D2 frames (a2d2_scene ≥ 0): image = the camera PNG, lidar = the npz, a2d2_label = the colour-coded label PNG.
  int a2d2_scene = -1, a2d2_frame = 0;
  Condition a2d2_condition = Condition::kClear;
  fs::path lidar, a2d2_label;
};

struct JobResult {
  std::array<uint64_t, 19> pixels{};
  uint64_t ignored = 0;
  std::array<int, 19> present{};
  int files = 0;
  int64_t points = 0;
  double seconds = 0;
};

// What every A2D2 job shares (computed once).
struct A2D2Context {
  A2D2Camera camera;
  DistortionWarp warp;
};

/// Block assignment of n images over k groups: group g gets n/k (+1 for the first n%k groups).
std::vector<int> blocks(int n, int k) {
  std::vector<int> c(static_cast<size_t>(k), n / k);
  for (int g = 0; g < n % k; ++g) ++c[static_cast<size_t>(g)];
  return c;
}

void write_png(const fs::path& path, const cv::Mat& img) {
  std::vector<uchar> buf;
  // Fixed encoder parameters: identical pixels → identical bytes.
  const std::vector<int> params = {cv::IMWRITE_PNG_COMPRESSION, 3, cv::IMWRITE_PNG_STRATEGY,
                                   cv::IMWRITE_PNG_STRATEGY_DEFAULT};
  if (!cv::imencode(".png", img, buf, params)) fail("{}: PNG encoding failed; check free memory", path.string());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    if (!f) fail("{}: cannot write; check free disk space and permissions of --out", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("{}: cannot rename into place ({}); check permissions of --out", path.string(), ec.message());
}

std::vector<Job> plan(const SynthOptions& o) {
  std::vector<Job> jobs;
  const fs::path cs = o.out / "cityscapes";
  for (const auto& [split, n, cities] : {std::tuple{std::string("train"), o.train_images, kTrainCities},
                                         std::tuple{std::string("val"), o.val_images, kValCities}}) {
    const auto counts = blocks(n, static_cast<int>(cities.size()));
    int i = 0;
    for (size_t c = 0; c < cities.size(); ++c) {
      for (int seq = 0; seq < counts[c]; ++seq, ++i) {
        Job j;
        j.domain = "cityscapes/" + split;
        j.style = cities[c];
        j.index = i;
        const std::string stem = fmt::format("{}_{:06d}_{:06d}", cities[c], seq, 19);
        j.image = cs / "leftImg8bit" / split / cities[c] / (stem + "_leftImg8bit.png");
        j.label_ids = cs / "gtFine" / split / cities[c] / (stem + "_gtFine_labelIds.png");
        j.label_train_ids = cs / "gtFine" / split / cities[c] / (stem + "_gtFine_labelTrainIds.png");
        jobs.push_back(std::move(j));
      }
    }
  }
  const fs::path ac = o.out / "acdc";
  for (size_t ci = 0; ci < kConditions.size(); ++ci) {
    const std::string& cond = kConditions[ci];
    const auto counts = blocks(o.acdc_val_per_condition, 2);
    int i = 0;
    for (size_t s = 0; s < 2; ++s) {
      const std::string& seq = kSequences[ci][s];
      for (int k = 0; k < counts[s]; ++k, ++i) {
        Job j;
        j.domain = "acdc/" + cond;
        j.style = "acdc-" + cond;
        j.index = i;
        j.condition = static_cast<int>(ci);
        const std::string stem = fmt::format("{}_frame_{:06d}", seq, 40 + 13 * k);
        j.image = ac / "rgb_anon" / cond / "val" / seq / (stem + "_rgb_anon.png");
        j.ref_image = ac / "rgb_anon" / cond / "val_ref" / seq / (stem + "_rgb_ref_anon.png");
        j.label_ids = ac / "gt" / cond / "val" / seq / (stem + "_gt_labelIds.png");
        j.label_train_ids = ac / "gt" / cond / "val" / seq / (stem + "_gt_labelTrainIds.png");
        jobs.push_back(std::move(j));
      }
    }
  }
  if (o.a2d2.scenes > 0) {
    const std::vector<Condition> cond = a2d2_conditions(o.a2d2, o.seed);
    const fs::path root = o.out / "a2d2" / "camera_lidar_semantic";
    for (int s = 0; s < o.a2d2.scenes; ++s) {
      const std::string scene = a2d2_scene_name(s), stem = scene.substr(0, 8) + scene.substr(9);
      for (int k = 0; k < o.a2d2.frames; ++k) {
        Job j;
        j.domain = "a2d2";
        j.a2d2_scene = s;
        j.a2d2_frame = k;
        j.a2d2_condition = cond[static_cast<size_t>(s * o.a2d2.frames + k)];
        const std::string frame = fmt::format("{:09d}", 10 * k);
        j.image = root / scene / "camera" / "cam_front_center" / (stem + "_camera_frontcenter_" + frame + ".png");
        j.lidar = root / scene / "lidar" / "cam_front_center" / (stem + "_lidar_frontcenter_" + frame + ".npz");
        j.a2d2_label = root / scene / "label" / "cam_front_center" / (stem + "_label_frontcenter_" + frame + ".png");
        jobs.push_back(std::move(j));
      }
    }
  }
  return jobs;
}

JobResult run_a2d2_job(const SynthOptions& o, const A2D2Context& ctx, const Job& j) {
  const auto t0 = std::chrono::steady_clock::now();
  const A2D2Frame f = render_a2d2_frame(o.seed, j.a2d2_scene, j.a2d2_frame, j.a2d2_condition, o.severity, o.a2d2,
                                        ctx.camera, ctx.warp);
  write_png(j.image, f.distorted_bgr);
  write_npz(j.lidar, a2d2_npz_members(f.lidar));
  write_png(j.a2d2_label, a2d2_label_bgr(f.distorted_label_id));
  JobResult r;
  r.files = 3;
  r.points = static_cast<int64_t>(f.lidar.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

JobResult run_job(const SynthOptions& o, const Job& j) {
  const Scene scene = make_scene(o.seed, j.domain, j.index, city_style(j.style), o.width, o.height);
  const Frame frame = render(scene);
  JobResult r;
  if (j.condition < 0) {
    Stream rng(o.seed, "synth/condition/clear/" + j.domain, static_cast<uint64_t>(j.index));
    write_png(j.image, apply_condition(frame, Condition::kClear, o.severity, rng));
    ++r.files;
  } else {
    const std::string& cond = kConditions[static_cast<size_t>(j.condition)];
    Stream rng(o.seed, "synth/condition/" + cond, static_cast<uint64_t>(j.index));
    write_png(j.image, apply_condition(frame, condition_from_name(cond), o.severity, rng));
    Stream ref_rng(o.seed, "synth/condition/clear/" + j.domain, static_cast<uint64_t>(j.index));
    write_png(j.ref_image, apply_condition(frame, Condition::kClear, o.severity, ref_rng));
    r.files += 2;
  }
  const auto& lut = label_id_lut();
  cv::Mat1b train(frame.label_id.size());
  for (int v = 0; v < train.rows; ++v) {
    const uint8_t* a = frame.label_id.ptr<uint8_t>(v);
    uint8_t* b = train.ptr<uint8_t>(v);
    for (int u = 0; u < train.cols; ++u) {
      b[u] = lut[a[u]];
      if (b[u] < 19) ++r.pixels[b[u]];
      else ++r.ignored;
    }
  }
  for (int k = 0; k < 19; ++k) r.present[static_cast<size_t>(k)] = r.pixels[static_cast<size_t>(k)] > 0;
  write_png(j.label_ids, frame.label_id);
  write_png(j.label_train_ids, train);
  r.files += 2;
  return r;
}

void validate(const SynthOptions& o) {
  if (o.out.empty()) fail("--out: expected an output folder; pass --out DIR");
  if (o.width < 16 || o.width > 8192) fail("--width {}: expected 16..8192 pixels; choose another width", o.width);
  if (o.height < 16 || o.height > 8192) fail("--height {}: expected 16..8192 pixels; choose another height", o.height);
  if (o.train_images < 0 || o.val_images < 0 || o.acdc_val_per_condition < 0)
    fail("--train-images/--val-images/--acdc-val-per-condition: expected ≥ 0; pass a non-negative count");
  if (!(o.severity >= 0.0 && o.severity <= 3.0))
    fail("--severity {}: expected 0..3 (1 ≈ typical ACDC); choose a value in range", o.severity);
  if (o.threads < 1 || o.threads > 256) fail("--threads {}: expected 1..256; choose another count", o.threads);
  validate(o.a2d2);
}

/// Makes `out` ready: creates it, or clears an earlier synth output (marked by SYNTH.json); never touches a folder
/// that holds anything else.
void prepare_out(const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    if (!fs::exists(out / "SYNTH.json"))
      fail("{}: exists, is not empty and holds no SYNTH.json; choose an empty or new --out", out.string());
    fs::remove(out / "SYNTH.json", ec);
    fs::remove_all(out / "cityscapes", ec);
    fs::remove_all(out / "acdc", ec);
    fs::remove_all(out / "a2d2", ec);
  }
  ensure_writable_dir(out);
}

}  // namespace

SynthSummary generate(const SynthOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  validate(o);
  prepare_out(o.out);
  const std::vector<Job> jobs = plan(o);
  for (const Job& j : jobs) {  // create folders up front so workers never race on them
    fs::create_directories(j.image.parent_path());
    if (!j.label_ids.empty()) fs::create_directories(j.label_ids.parent_path());
    if (!j.ref_image.empty()) fs::create_directories(j.ref_image.parent_path());
    if (!j.lidar.empty()) fs::create_directories(j.lidar.parent_path());
    if (!j.a2d2_label.empty()) fs::create_directories(j.a2d2_label.parent_path());
  }
  A2D2Context a2d2;
  if (o.a2d2.scenes > 0) {
    a2d2.camera = a2d2_camera(o.a2d2.scale);
    a2d2.warp = distortion_warp(a2d2.camera);
  }
  std::vector<JobResult> results(jobs.size());
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::exception_ptr err;
  size_t err_job = SIZE_MAX;
  auto worker = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      try {
        results[i] = jobs[i].a2d2_scene >= 0 ? run_a2d2_job(o, a2d2, jobs[i]) : run_job(o, jobs[i]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (i < err_job) { err = std::current_exception(); err_job = i; }
      }
    }
  };
  const int n_threads = std::min<int>(o.threads, std::max<int>(1, static_cast<int>(jobs.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (err) std::rethrow_exception(err);

  SynthSummary s;
  std::array<uint64_t, 19> pixels{};
  uint64_t ignored = 0;
  std::array<int, 5> per_condition{};
  nlohmann::json a2d2_frames = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const JobResult& r = results[i];
    for (size_t k = 0; k < 19; ++k) { pixels[k] += r.pixels[k]; s.images_with_class[k] += r.present[k]; }
    ignored += r.ignored;
    s.files_written += r.files;
    if (jobs[i].a2d2_scene >= 0) {
      ++s.a2d2_frames;
      s.a2d2_points += r.points;
      s.a2d2_seconds += r.seconds;
      const auto c = static_cast<size_t>(jobs[i].a2d2_condition);
      ++per_condition[c];
      a2d2_frames.push_back({{"scene", a2d2_scene_name(jobs[i].a2d2_scene)},
                             {"frame", 10 * jobs[i].a2d2_frame},
                             {"condition", kA2D2Conditions[c]},
                             {"points", r.points}});
    }
  }
  if (o.a2d2.scenes > 0) {
    write_json_atomic(o.out / "a2d2" / "cams_lidars.json", a2d2_cams_lidars_json(a2d2.camera));
    write_atomic(o.out / "a2d2" / "camera_lidar_semantic" / "class_list.json", a2d2_class_list_text());
    s.files_written += 2;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(o.out / "a2d2", ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) s.a2d2_bytes += it->file_size(ec);
  }
  uint64_t total = ignored;
  for (auto p : pixels) total += p;
  for (size_t k = 0; k < 19; ++k) s.class_fraction[k] = total ? static_cast<double>(pixels[k]) / total : 0.0;
  s.ignored_fraction = total ? static_cast<double>(ignored) / total : 0.0;
  s.cityscapes_train = o.train_images;
  s.cityscapes_val = o.val_images;
  s.acdc_per_condition = o.acdc_val_per_condition;

  nlohmann::json j;
  j["generator_version"] = kGeneratorVersion;
  j["seed"] = o.seed;
  j["options"] = {{"width", o.width},
                  {"height", o.height},
                  {"train_images", o.train_images},
                  {"val_images", o.val_images},
                  {"acdc_val_per_condition", o.acdc_val_per_condition},
                  {"severity", o.severity}};
  j["camera"] = {{"focal_px", 2260.0 * o.width / 2048.0}, {"height_m", "1.1..1.3"}, {"horizon_row", "0.44..0.5 H"}};
  nlohmann::json cities;
  for (const auto& [split, n, list] : {std::tuple{std::string("train"), o.train_images, kTrainCities},
                                       std::tuple{std::string("val"), o.val_images, kValCities}}) {
    const auto counts = blocks(n, static_cast<int>(list.size()));
    for (size_t c = 0; c < list.size(); ++c) cities[split][list[c]] = counts[c];
  }
  j["counts"] = {{"cityscapes", {{"train", o.train_images}, {"val", o.val_images}, {"cities", cities}}},
                 {"acdc", {{"val_per_condition", o.acdc_val_per_condition},
                           {"val_ref_per_condition", o.acdc_val_per_condition},
                           {"conditions", kConditions}}},
                 {"a2d2", {{"pairs", s.a2d2_frames}}},
                 {"files", s.files_written + 1}};
  nlohmann::json frac, present;
  for (size_t k = 0; k < 19; ++k) {
    frac[std::string(kClassNames[k])] = s.class_fraction[k];
    present[std::string(kClassNames[k])] = s.images_with_class[k];
  }
  j["class_fraction"] = frac;
  j["images_with_class"] = present;
  j["ignored_fraction"] = s.ignored_fraction;
  if (o.a2d2.scenes > 0) {
    nlohmann::json shares, counts;
    for (size_t c = 0; c < 5; ++c) {
      shares[kA2D2Conditions[c]] = o.a2d2.condition_share[c];
      counts[kA2D2Conditions[c]] = per_condition[c];
    }
    const A2D2Camera& cam = a2d2.camera;
    j["a2d2"] = {
        {"scenes", o.a2d2.scenes},
        {"frames_per_scene", o.a2d2.frames},
        {"pairs", s.a2d2_frames},
        {"points", s.a2d2_points},
        {"step_m", o.a2d2.step_m},
        {"camera", {{"scale", o.a2d2.scale}, {"width", cam.width}, {"height", cam.height},
                    {"crop", static_cast<int>(std::lround(896.0 * cam.width / 1920.0))},
                    {"height_m", kCameraHeight}, {"distortion_k1", cam.distortion[0]},
                    {"image", "distorted (CamMatrixOriginal + Distortion); row/col in the undistorted CamMatrix image"}}},
        {"lidar", {{"sensors", "5 x VLP-16 at the cams_lidars.json poses"}, {"beams", 16},
                   {"elevation_deg", {-15, 15}}, {"azimuth_step_deg", 0.2}, {"range_m", {0.5, 100}},
                   {"range_noise_m", 0.02}, {"dropout", 0.02}}},
        {"condition_share", shares},
        {"condition_frames", counts},
        {"frames", a2d2_frames}};
  }
  j["all_classes_present"] = std::all_of(s.images_with_class.begin(), s.images_with_class.end(),
                                         [](int n) { return n > 0; });
  write_json_atomic(o.out / "SYNTH.json", j);
  s.files_written += 1;
  s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace clcp::synth
