#include "suite/data/a2d2.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <system_error>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/npz.hpp"
#include "suite/data/split_scan.hpp"

namespace fs = std::filesystem;

namespace clcp {

namespace {

const std::regex kSceneName(R"(\d{8}_\d{6})");

cv::Matx33d matrix3(const nlohmann::json& cam, const char* key, const fs::path& file) {
  const auto it = cam.find(key);
  if (it == cam.end()) fail("{}: cameras.front_center has no \"{}\"; use the cams_lidars.json of the A2D2 download", file.string(), key);
  cv::Matx33d m;
  if (!it->is_array() || it->size() != 3) fail("{}: cameras.front_center.{} must be a 3×3 array of numbers", file.string(), key);
  for (int r = 0; r < 3; ++r) {
    const auto& row = (*it)[static_cast<size_t>(r)];
    if (!row.is_array() || row.size() != 3) fail("{}: cameras.front_center.{} must be a 3×3 array of numbers", file.string(), key);
    for (int c = 0; c < 3; ++c) {
      if (!row[static_cast<size_t>(c)].is_number())
        fail("{}: cameras.front_center.{} must be a 3×3 array of numbers", file.string(), key);
      m(r, c) = row[static_cast<size_t>(c)].get<double>();
    }
  }
  return m;
}

std::string no_underscore(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Regular files directly in `dir` whose name ends with `suffix`, sorted by name; empty if dir does not exist.
std::vector<fs::path> list_files(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && ends_with(it->path().filename().string(), suffix)) out.push_back(it->path());
  }
  if (ec) fail("{}: cannot list folder ({}); check its permissions", dir.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Checks one lidar file's members. Returns "" when usable, else the skip reason; throws for corrupt files.
std::string check_lidar(const fs::path& npz) {
  const std::vector<NpzMember> members = read_npz_headers(npz);
  std::map<std::string, const NpyArray*> by_key;
  for (const auto& m : members) by_key[m.key] = &m.array;
  std::vector<std::string> missing;
  for (const char* k : {"points", "reflectance", "row", "col"})
    if (!by_key.count(k)) missing.push_back(k);
  std::string reason;
  int64_t n = -1;
  if (by_key.count("points")) {
    const NpyArray& p = *by_key["points"];
    const bool empty = p.numel() == 0;
    if (!empty && (p.shape.size() != 2 || p.shape[1] != 3))
      fail("{}: member points has shape ({}) but must be N×3 (x, y, z); re-download the file", npz.string(),
           fmt::join(p.shape, ", "));
    if (empty) reason = "points is empty (0 points)";
    else n = p.shape[0];
  }
  if (!missing.empty()) reason += (reason.empty() ? "lacks " : " and lacks ") + join(missing);
  if (!reason.empty()) return reason;
  for (const char* k : {"reflectance", "row", "col"}) {
    const NpyArray& a = *by_key[k];
    if (a.shape.size() != 1 || a.shape[0] != n)
      fail("{}: mismatched member lengths: points has {} rows but {} has shape ({}); re-download the file",
           npz.string(), n, k, fmt::join(a.shape, ", "));
  }
  return "";
}

}  // namespace

A2D2Camera read_front_center_camera(const fs::path& file) {
  const nlohmann::json j = read_json(file);
  const char* fix = "use the cams_lidars.json of the A2D2 download";
  if (!j.is_object() || !j.contains("cameras") || !j["cameras"].is_object())
    fail("{}: no \"cameras\" object; {}", file.string(), fix);
  if (!j["cameras"].contains("front_center"))
    fail("{}: cameras has no \"front_center\" entry (the camera whose pairs are read); {}", file.string(), fix);
  const nlohmann::json& c = j["cameras"]["front_center"];
  if (!c.is_object()) fail("{}: cameras.front_center must be an object; {}", file.string(), fix);
  A2D2Camera cam;
  cam.source = file;
  cam.cam_matrix = matrix3(c, "CamMatrix", file);
  cam.cam_matrix_original = matrix3(c, "CamMatrixOriginal", file);
  const auto d = c.find("Distortion");
  if (d == c.end() || !d->is_array() || d->empty() || !(*d)[0].is_array() || (*d)[0].size() != 5)
    fail("{}: cameras.front_center.Distortion must be [[k1, k2, p1, p2, k3]]; {}", file.string(), fix);
  for (size_t i = 0; i < 5; ++i) {
    if (!(*d)[0][i].is_number()) fail("{}: cameras.front_center.Distortion must hold 5 numbers; {}", file.string(), fix);
    cam.distortion[i] = (*d)[0][i].get<double>();
  }
  if (!c.contains("Lens") || !c["Lens"].is_string()) fail("{}: cameras.front_center has no \"Lens\"; {}", file.string(), fix);
  cam.lens = c["Lens"].get<std::string>();
  if (cam.lens != "Telecam" && cam.lens != "Fisheye")
    fail("{}: cameras.front_center.Lens is \"{}\"; expected \"Telecam\" or \"Fisheye\"; {}", file.string(), cam.lens, fix);
  const auto res = c.find("Resolution");
  if (res == c.end() || !res->is_array() || res->size() != 2 || !(*res)[0].is_number_integer() ||
      !(*res)[1].is_number_integer() || (*res)[0].get<int>() < 16 || (*res)[1].get<int>() < 16)
    fail("{}: cameras.front_center.Resolution must be [width, height] in pixels; {}", file.string(), fix);
  cam.width = (*res)[0].get<int>();
  cam.height = (*res)[1].get<int>();
  return cam;
}

fs::path find_cams_lidars(const fs::path& root, const fs::path& explicit_path) {
  std::error_code ec;
  if (!explicit_path.empty()) {
    if (!fs::is_regular_file(explicit_path, ec))
      fail("{}: cams_lidars.json not found; pass the sensor calibration of the A2D2 download with --cams-lidars",
           explicit_path.string());
    return fs::absolute(explicit_path).lexically_normal();
  }
  const fs::path a = root / "cams_lidars.json", b = (root / "..").lexically_normal() / "cams_lidars.json";
  if (fs::is_regular_file(a, ec)) return a;
  if (fs::is_regular_file(b, ec)) return b;
  fail("{}: no cams_lidars.json (looked at {} and {}); put the A2D2 download's cams_lidars.json there or pass "
       "--cams-lidars FILE", root.string(), a.string(), b.string());
}

double clamp_val_ratio(double r, std::vector<std::string>& warnings) {
  if (r >= 0.0 && r <= 0.5) return r;
  const double c = std::isnan(r) ? 0.15 : std::clamp(r, 0.0, 0.5);
  warnings.push_back(fmt::format("val_ratio {} is outside [0, 0.5]; using {}", r, c));
  return c;
}

std::vector<bool> val_assignment(const std::vector<std::string>& scene, double ratio) {
  std::vector<bool> val(scene.size(), false);
  for (size_t b = 0; b < scene.size();) {
    size_t e = b;
    while (e < scene.size() && scene[e] == scene[b]) ++e;
    const size_t n = e - b;
    // Python's int(n * ratio) for the thesis's non-negative ratio: the same double product, truncated.
    const auto n_val = static_cast<size_t>(std::floor(static_cast<double>(n) * ratio));
    for (size_t i = e - n_val; i < e; ++i) val[i] = true;
    b = e;
  }
  return val;
}

std::filesystem::path find_a2d2_root(const std::filesystem::path& r) {
  std::error_code ec;
  for (const auto& c : {r / "a2d2" / "camera_lidar_semantic", r / "camera_lidar_semantic"})
    if (std::filesystem::is_directory(c, ec)) return c;
  if (r.filename() == "camera_lidar_semantic" && std::filesystem::is_directory(r, ec)) return r;
  return {};
}

A2D2Dataset read_a2d2(const fs::path& root_in, const A2D2Options& options) {
  A2D2Dataset d;
  d.root = detail::normal_root(root_in);
  std::error_code ec;
  if (!fs::is_directory(d.root, ec))
    fail("{}: A2D2 root not found; pass --data-root DIR, the camera_lidar_semantic folder of the A2D2 download",
         d.root.string());
  d.camera = read_front_center_camera(find_cams_lidars(d.root, options.cams_lidars));
  d.val_ratio = clamp_val_ratio(options.val_ratio, d.warnings);

  for (fs::directory_iterator it(d.root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && std::regex_match(name, kSceneName)) d.scenes.push_back(name);
  }
  std::sort(d.scenes.begin(), d.scenes.end());
  if (d.scenes.empty())
    fail("{}: no A2D2 scene folders (YYYYMMDD_HHMMSS/lidar/cam_front_center/); pass the camera_lidar_semantic folder "
         "as --data-root", d.root.string());

  for (const std::string& scene : d.scenes) {
    const fs::path lidar_dir = d.root / scene / "lidar" / "cam_front_center";
    const fs::path camera_dir = d.root / scene / "camera" / "cam_front_center";
    const std::regex lidar_name(no_underscore(scene) + R"(_lidar_frontcenter_(\d{9})\.npz)");
    const std::vector<fs::path> lidars = list_files(lidar_dir, ".npz");
    std::set<std::string> paired_cameras;
    size_t usable = 0;
    for (const fs::path& l : lidars) {
      const std::string fname = l.filename().string();
      std::smatch m;
      if (!std::regex_match(fname, m, lidar_name)) {
        d.skipped.push_back({l, fmt::format("file name does not match {}_lidar_frontcenter_<9 digits>.npz",
                                            no_underscore(scene))});
        continue;
      }
      const std::string cam_name = replace_all(fname.substr(0, fname.size() - 4), "lidar", "camera") + ".png";
      const fs::path cam = camera_dir / cam_name;
      paired_cameras.insert(cam_name);
      if (!fs::is_regular_file(cam, ec)) {
        d.skipped.push_back({l, fmt::format("no camera image {}", cam.string())});
        continue;
      }
      if (std::string reason = check_lidar(l); !reason.empty()) {
        d.skipped.push_back({l, reason});
        continue;
      }
      A2D2Pair p;
      p.lidar = l;
      p.camera = cam;
      p.scene = scene;
      p.frame = std::stoll(m[1].str());
      p.id = l.lexically_relative(d.root).generic_string();
      d.pairs.push_back(std::move(p));
      ++usable;
    }
    for (const fs::path& c : list_files(camera_dir, ".png")) {
      if (paired_cameras.count(c.filename().string())) continue;
      const std::string lidar_name_expected =
          replace_all(c.filename().string().substr(0, c.filename().string().size() - 4), "camera", "lidar") + ".npz";
      d.skipped.push_back({c, fmt::format("camera image without lidar file {}", (lidar_dir / lidar_name_expected).string())});
    }
    if (usable == 0)
      fail("{}: empty scene: no usable front-centre pair ({} lidar files in lidar/cam_front_center/, all skipped or "
           "none); restore the scene's lidar/ and camera/ folders or remove the scene folder",
           (d.root / scene).string(), lidars.size());
  }
  std::sort(d.pairs.begin(), d.pairs.end(), [](const A2D2Pair& a, const A2D2Pair& b) {
    return a.lidar.generic_string() < b.lidar.generic_string();
  });
  std::sort(d.skipped.begin(), d.skipped.end(), [](const SkippedFile& a, const SkippedFile& b) {
    return a.file.generic_string() < b.file.generic_string();
  });
  std::vector<std::string> scene_of;
  for (const auto& p : d.pairs) scene_of.push_back(p.scene);
  const std::vector<bool> val = val_assignment(scene_of, d.val_ratio);
  for (size_t i = 0; i < val.size(); ++i) (val[i] ? d.val : d.train).push_back(i);
  return d;
}

PairSplit a2d2_split(const A2D2Dataset& d, std::string_view name) {
  if (name != "train" && name != "val")
    fail("A2D2 split '{}': expected train or val; fix the split name", name);
  PairSplit s;
  s.name = std::string(name);
  s.root = d.root;
  s.camera = d.camera;
  for (size_t i : name == "train" ? d.train : d.val) s.records.push_back(d.pairs[i]);
  if (s.records.empty())
    fail("{}: A2D2 {} split is empty ({} pairs, val_ratio {}); use a val_ratio that gives each scene ≥ 1 val pair, "
         "or more pairs", d.root.string(), name, d.pairs.size(), d.val_ratio);
  return s;
}

std::vector<size_t> derangement(size_t n, uint64_t seed) {
  if (n < 2) fail("shuffled pairing: {} pair(s) cannot be paired with another frame's cloud; use more data", n);
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  Stream s(seed, "a2d2/derangement");
  for (size_t j = n - 1; j >= 1; --j) std::swap(p[j], p[static_cast<size_t>(s.randint(0, static_cast<int64_t>(j)))]);
  return p;
}

void shuffle_pairing(PairSplit& split, uint64_t seed) { split.cloud_of = derangement(split.records.size(), seed); }

}  // namespace clcp
